#!/bin/sh
# Install (or remove) the built bundle with its desktop entry, AppStream metadata and icons.
#   packaging/linux/install.sh [--prefix DIR] [--uninstall] [BUNDLE_DIR]
# Default prefix: /usr/local as root, ~/.local otherwise. BUNDLE_DIR: dist/operator-desk.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" = 0 ]; then prefix=/usr/local; else prefix="$HOME/.local"; fi
bundle=""
uninstall=no
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="$2"; shift 2 ;;
    --uninstall) uninstall=yes; shift ;;
    -*) echo "install.sh: unknown option $1" >&2; exit 2 ;;
    *) bundle="$1"; shift ;;
  esac
done
bundle=${bundle:-"$here/../../dist/operator-desk"}
app_dir="$prefix/lib/operator-desk"
desktop="$prefix/share/applications/operator-desk.desktop"
metainfo="$prefix/share/metainfo/io.github.operatordesk.OperatorDesk.metainfo.xml"
icons="$prefix/share/icons/hicolor"

refresh_caches() {
  command -v update-desktop-database >/dev/null 2>&1 \
    && update-desktop-database -q "$prefix/share/applications" 2>/dev/null || true
  command -v gtk-update-icon-cache >/dev/null 2>&1 \
    && gtk-update-icon-cache -q -t "$icons" 2>/dev/null || true
}

if [ "$uninstall" = yes ]; then
  rm -rf "$app_dir"
  rm -f "$prefix/bin/operator-app" "$desktop" "$metainfo"
  find "$icons" -name 'operator-desk.*' -path '*/apps/*' -exec rm -f {} + 2>/dev/null || true
  refresh_caches
  echo "removed Operator desk from $prefix"
  exit 0
fi

if [ ! -x "$bundle/operator-desk" ]; then
  echo "install.sh: no bundle at $bundle; build it first with: make package" >&2
  exit 1
fi
mkdir -p "$prefix/lib" "$prefix/bin" "$(dirname "$desktop")" "$(dirname "$metainfo")" "$icons"
rm -rf "$app_dir"
cp -R "$bundle" "$app_dir"
ln -sf "$app_dir/operator-desk" "$prefix/bin/operator-app"  # the .desktop file runs operator-app
cp "$here/operator-desk.desktop" "$desktop"
cp "$here/io.github.operatordesk.OperatorDesk.metainfo.xml" "$metainfo"
cp -R "$here/icons/hicolor/." "$icons/"
refresh_caches
echo "installed Operator desk into $prefix (run: operator-app)"
