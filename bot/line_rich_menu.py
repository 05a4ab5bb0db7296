"""The LINE rich menu: six buttons under the 1:1 chat, each sending a command's text as if
typed. Its picture is drawn here (Pillow, with the IPAex Gothic font matplotlib-fontja ships),
so nobody has to keep an image file in step with the buttons."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import matplotlib_fontja
from linebot.v3.messaging import (
    MessageAction,
    MessagingApi,
    MessagingApiBlob,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
)
from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

NAME = "Renkei"  # our menus carry this name; older ones of ours are removed on install
WIDTH, HEIGHT = 2500, 843  # LINE's compact size: two rows of three
COLUMNS, ROWS = 3, 2


@dataclass(frozen=True)
class Area:
    label: str  # drawn on the button
    text: str  # what tapping it sends (a command word of handlers/registry.py)
    hint: str  # the small line under the label


AREAS: tuple[Area, ...] = (
    Area("予定", "予定", "今後30日の予定と期限"),
    Area("活動", "活動", "活動を記録する"),
    Area("KPI", "KPI", "KPIの実績を入力"),
    Area("状況", "状況", "協定ごとの進み具合"),
    Area("ダッシュボード", "ダッシュボード", "ウェブで全体を見る"),
    Area("ヘルプ", "ヘルプ", "使い方"),
)


def _bounds(i: int) -> RichMenuBounds:
    w, h = WIDTH // COLUMNS, HEIGHT // ROWS
    x, y = (i % COLUMNS) * w, (i // COLUMNS) * h
    # The last column and row take the remainder, so the areas cover the image exactly.
    return RichMenuBounds(
        x=x,
        y=y,
        width=WIDTH - x if i % COLUMNS == COLUMNS - 1 else w,
        height=HEIGHT - y if i // COLUMNS == ROWS - 1 else h,
    )


def rich_menu_request() -> RichMenuRequest:
    return RichMenuRequest(
        size=RichMenuSize(width=WIDTH, height=HEIGHT),
        selected=True,  # shown open when the chat is opened
        name=NAME,
        chatBarText="メニュー",
        areas=[
            RichMenuArea(bounds=_bounds(i), action=MessageAction(label=a.label, text=a.text))
            for i, a in enumerate(AREAS)
        ],
    )


@cache
def _font_path() -> Path:
    return Path(matplotlib_fontja.__file__).parent / "fonts" / "ipaexg.ttf"


def draw_rich_menu() -> bytes:
    """The menu's PNG: one tile per area, its label large and a hint below."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "#ffffff")
    draw = ImageDraw.Draw(image)
    fonts = [ImageFont.truetype(str(_font_path()), size) for size in (110, 96, 84, 72)]
    small = ImageFont.truetype(str(_font_path()), 48)
    for i, area in enumerate(AREAS):
        b = _bounds(i)
        fill = "#06c755" if i % 2 == 0 else "#04a045"  # LINE green, alternating shades
        draw.rectangle((b.x, b.y, b.x + b.width - 1, b.y + b.height - 1), fill=fill)
        draw.rectangle(
            (b.x, b.y, b.x + b.width - 1, b.y + b.height - 1), outline="#ffffff", width=6
        )
        cx, cy = b.x + b.width / 2, b.y + b.height / 2
        # The largest size that leaves a margin (ダッシュボード is the longest label).
        font = next(
            (f for f in fonts if draw.textlength(area.label, font=f) < b.width - 120), small
        )
        draw.text((cx, cy - 30), area.label, font=font, fill="#ffffff", anchor="mm")
        draw.text((cx, cy + 85), area.hint, font=small, fill="#e8fff0", anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def install_rich_menu(api: MessagingApi, blob: MessagingApiBlob, png: bytes) -> str:
    """Create the menu, upload its picture, make it every user's default; then remove the
    menus an earlier run made. Returns the new menu's id."""
    menu_id = api.create_rich_menu(rich_menu_request()).rich_menu_id
    blob.set_rich_menu_image(menu_id, png, _headers={"Content-Type": "image/png"})
    api.set_default_rich_menu(menu_id)
    for old in api.get_rich_menu_list().richmenus or []:
        if old.name == NAME and old.rich_menu_id != menu_id:
            api.delete_rich_menu(old.rich_menu_id)
            log.info("removed the earlier rich menu %s", old.rich_menu_id)
    return menu_id
