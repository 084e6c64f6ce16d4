; Inno Setup 6 script: installs the PyInstaller one-folder bundle dist\operator-desk.
; Build on Windows after `pyinstaller --noconfirm build.spec`:
;   iscc packaging\windows\operator-desk.iss
; AppVersion is stamped from operator_app/__init__.py by packaging/sync_version.py;
; `iscc /DAppVersion=1.2.3 ...` overrides it.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Operator desk"
#define AppExe "operator-desk.exe"
#define SourceRoot "..\.."

[Setup]
; A fixed AppId lets upgrades replace the installed version instead of adding a second one.
AppId={{6F1D4C2A-8B3E-4E7A-9C51-2D7F0A9B3E41}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Operator desk developers
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\Operator desk
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#SourceRoot}\dist
OutputBaseFilename=operator-desk-{#AppVersion}-setup
SetupIconFile=operator-desk.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"
Name: "russian"; MessagesFile: "compiler:Languages\Russian.isl"

[CustomMessages]
english.LaunchApp=Start Operator desk
russian.LaunchApp=Запустить рабочее место оператора

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[Files]
Source: "{#SourceRoot}\dist\operator-desk\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchApp}"; Flags: nowait postinstall skipifsilent

