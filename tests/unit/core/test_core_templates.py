"""Template rendering: known variables filled, custom ones reported missing."""

from __future__ import annotations

from operator_app.core.templates import render, variables
from operator_app.protocol.models import Template, TemplateScope


def template(body: str) -> Template:
    return Template(id=1, scope=TemplateScope.SHARED, shortcut="hi", title="Hi", body=body)


def test_known_variables_are_filled() -> None:
    result = render(
        template("Здравствуйте, {client_name}! Я {operator_name}, диалог #{dialog_id}."),
        {"client_name": "Мария", "operator_name": "Анна", "dialog_id": "42"},
    )
    assert result.text == "Здравствуйте, Мария! Я Анна, диалог #42."
    assert result.missing == []


def test_unknown_and_empty_variables_stay_visible_and_are_listed_once() -> None:
    result = render(
        template("Order {order_number} for {client_name} ({order_number})"), {"client_name": ""}
    )
    assert result.text == "Order {order_number} for {client_name} ({order_number})"
    assert result.missing == ["order_number", "client_name"]


def test_extra_values_and_literal_braces() -> None:
    result = render("{{not a var}} {order}", {"order": "A-1"})
    assert result.text == "{not a var} A-1"
    assert result.missing == []


def test_values_are_inserted_verbatim_never_reinterpreted() -> None:
    result = render("Hi {client_name}", {"client_name": "{operator_name} <b>x</b>"})
    assert result.text == "Hi {operator_name} <b>x</b>"
    assert result.missing == []


def test_variables_lists_names_in_order() -> None:
    assert variables("{b} {a} {b} {{c}}") == ["b", "a"]
