"""Two real tools the agent examples share, as plain typed functions.

Each framework turns a plain function into a tool from its signature and docstring
(LangChain: ``tool(calculator)``; LlamaIndex: ``FunctionTool.from_defaults(calculator)``), so the
tools are written once, here, with no framework in sight.
"""

from __future__ import annotations

import ast
import json
import operator
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}


def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression such as '3 * 2890 * 1.21' and return the result.

    Supports + - * / // % ** and parentheses on numbers; nothing else.
    """
    try:
        value = _evaluate(ast.parse(expression.replace(",", ""), mode="eval").body)
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError) as exc:
        # A tool reports bad input to the model as text, so the model can correct itself.
        return f"error: {exc}"
    return f"{value:.10g}" if isinstance(value, float) and not value.is_integer() else str(int(value))


def _evaluate(node: ast.expr) -> float:
    # Walk the syntax tree instead of calling eval(): only numbers and arithmetic get through.
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 64:
            raise ValueError("exponent too large")
        return _BINARY[type(node.op)](left, right)  # type: ignore[no-any-return]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))  # type: ignore[no-any-return]
    raise ValueError(f"unsupported expression: {ast.unparse(node)!r}")


@cache
def _price_list() -> dict[str, Any]:
    return json.loads((DATA / "price_list.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def price_lookup(product_id: str) -> str:
    """Look up a Kestrel product's price before VAT by its id (e.g. 'K2') or name (e.g. 'Cargo')."""
    prices = _price_list()
    wanted = f" {product_id.lower()} "
    found = [
        item
        for item in prices["items"]
        if f" {item['sku'].lower()}" in wanted
        or item["name"].lower() in wanted
        or wanted.strip() in item["name"].lower()
    ]
    if not found:
        known = ", ".join(item["name"] for item in prices["items"])
        return f"no product matches {product_id!r}; known products: {known}"
    return "; ".join(
        f"{item['name']} ({item['sku']}): {item['price']:.2f} {prices['currency']} before VAT" for item in found
    )
