"""Light and dark themes: one palette of semantic colours that widgets and delegates share."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from .resources import resource_path


@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    base: str
    alt_base: str
    text: str
    muted: str
    border: str
    accent: str
    accent_text: str
    selection: str
    bubble_client: str
    bubble_operator: str
    bubble_comment: str
    comment_border: str
    system_text: str
    badge: str
    sla_ok: str
    sla_warn: str
    sla_breach: str
    banner_offline: str
    banner_text: str
    failed: str

    def color(self, attr: str) -> QColor:
        return QColor(getattr(self, attr))


LIGHT = Theme(
    name="light",
    window="#F3F5F8",
    base="#FFFFFF",
    alt_base="#F7F9FB",
    text="#1F2937",
    muted="#6B7280",
    border="#DCE1E8",
    accent="#2563EB",
    accent_text="#FFFFFF",
    selection="#DBEAFE",
    bubble_client="#F1F3F6",
    bubble_operator="#DCEBFF",
    bubble_comment="#FFF4D6",
    comment_border="#E0A526",
    system_text="#6B7280",
    badge="#2563EB",
    sla_ok="#16A34A",
    sla_warn="#D97706",
    sla_breach="#DC2626",
    banner_offline="#FDE7C8",
    banner_text="#7C2D12",
    failed="#DC2626",
)

DARK = Theme(
    name="dark",
    window="#16191E",
    base="#1E2228",
    alt_base="#23282F",
    text="#E5E7EB",
    muted="#9CA3AF",
    border="#323943",
    accent="#3B82F6",
    accent_text="#FFFFFF",
    selection="#1E3A5F",
    bubble_client="#2A3039",
    bubble_operator="#1E3A5F",
    bubble_comment="#4A3B12",
    comment_border="#D4A017",
    system_text="#9CA3AF",
    badge="#3B82F6",
    sla_ok="#22C55E",
    sla_warn="#F59E0B",
    sla_breach="#F87171",
    banner_offline="#5C3A12",
    banner_text="#FDE7C8",
    failed="#F87171",
)

THEMES = {"light": LIGHT, "dark": DARK}
_current: list[Theme] = [LIGHT]


def current() -> Theme:
    return _current[0]


def resolve(name: str) -> Theme:
    """'system' follows the desktop's colour scheme."""
    if name in THEMES:
        return THEMES[name]
    hints = QGuiApplication.styleHints()
    from PySide6.QtCore import Qt

    return DARK if hints.colorScheme() == Qt.ColorScheme.Dark else LIGHT


def apply(app: QApplication, name: str, font_size: int = 0) -> Theme:
    theme = resolve(name)
    _current[0] = theme
    app.setStyle("Fusion")
    palette = QPalette()
    role = QPalette.ColorRole
    palette.setColor(role.Window, QColor(theme.window))
    palette.setColor(role.WindowText, QColor(theme.text))
    palette.setColor(role.Base, QColor(theme.base))
    palette.setColor(role.AlternateBase, QColor(theme.alt_base))
    palette.setColor(role.Text, QColor(theme.text))
    palette.setColor(role.Button, QColor(theme.base))
    palette.setColor(role.ButtonText, QColor(theme.text))
    palette.setColor(role.Highlight, QColor(theme.accent))
    palette.setColor(role.HighlightedText, QColor(theme.accent_text))
    palette.setColor(role.ToolTipBase, QColor(theme.base))
    palette.setColor(role.ToolTipText, QColor(theme.text))
    palette.setColor(role.PlaceholderText, QColor(theme.muted))
    palette.setColor(role.Link, QColor(theme.accent))
    palette.setColor(role.Mid, QColor(theme.border))
    # setColor(role, ...) sets every group: a disabled checkbox, menu item or tool button
    # looked as available as the rest
    for text_role in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, text_role, QColor(theme.muted))
    app.setPalette(palette)
    if font_size:
        font = app.font()
        font.setPointSize(font_size)
        app.setFont(font)
    app.setStyleSheet(stylesheet(theme))
    return theme


def _icon_url(name: str) -> str:
    return resource_path("icons", f"{name}.svg").as_posix()


def stylesheet(t: Theme) -> str:
    return f"""
    QMainWindow, QDialog {{ background: {t.window}; }}
    QListView, QTreeView, QTableView {{ background: {t.base}; border: none; }}
    QTabWidget::pane {{ border: none; background: {t.base}; }}
    QTabBar::tab {{ padding: 6px 12px; border: none; color: {t.muted}; background: transparent; }}
    QTabBar::tab:selected {{ color: {t.text}; border-bottom: 2px solid {t.accent}; }}
    QTabBar::close-button {{ image: url({_icon_url("tab-close")}); subcontrol-position: right; }}
    QTabBar::close-button:hover {{ background: {t.border}; border-radius: 3px; }}
    QLineEdit, QPlainTextEdit, QTextEdit, QComboBox {{
        background: {t.base}; border: 1px solid {t.border}; border-radius: 6px; padding: 4px 6px; }}
    QPushButton {{ background: {t.base}; border: 1px solid {t.border}; border-radius: 6px;
        padding: 5px 12px; color: {t.text}; }}
    QPushButton:hover {{ border-color: {t.accent}; }}
    QPushButton:disabled {{ color: {t.muted}; }}
    QPushButton#primary {{ background: {t.accent}; color: {t.accent_text}; border: none; }}
    QPushButton#primary:disabled {{ background: {t.border}; color: {t.muted}; }}
    QPushButton#primary[comment="true"] {{ background: {t.comment_border}; color: #1F1400; }}
    QToolButton {{ border: none; padding: 4px; border-radius: 6px; }}
    QToolButton#jumpToLatest {{ background: {t.base}; border: 1px solid {t.accent};
        border-radius: 11px; padding: 3px 12px; color: {t.accent}; font-weight: 600; }}
    QToolButton:checked {{ background: {t.bubble_comment}; border: 1px solid {t.comment_border}; }}
    QFrame#offlineBanner {{ background: {t.banner_offline}; }}
    QFrame#offlineBanner QLabel {{ color: {t.banner_text}; }}
    QFrame#panel {{ background: {t.base}; border-left: 1px solid {t.border}; }}
    QFrame#topBar {{ background: {t.base}; border-bottom: 1px solid {t.border}; }}
    QFrame#chatHeader {{ background: {t.base}; border-bottom: 1px solid {t.border}; }}
    QFrame#composerFrame {{ background: {t.base}; border-top: 1px solid {t.border}; }}
    QPlainTextEdit#messageText {{ background: transparent; border: none; border-radius: 0;
        padding: 0; color: {t.text}; }}
    QPlainTextEdit#composer[comment="true"] {{ background: {t.bubble_comment};
        border: 2px solid {t.comment_border}; }}
    QLabel#muted {{ color: {t.muted}; }}
    QLabel#title {{ font-weight: 600; font-size: 15px; }}
    QLabel#commentHint {{ color: {t.comment_border}; font-weight: 600; }}
    """
