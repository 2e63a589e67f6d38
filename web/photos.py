"""A chat photo is checked before it is written: not empty, not too large, and an image that Pillow
reads in one of the formats staff browsers show (the browser's content type is the sender's claim)."""

from __future__ import annotations

import io
import warnings

from fastapi import HTTPException
from PIL import Image, UnidentifiedImageError

from bot import texts

SUFFIXES = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif"}


def suffix_of(content: bytes, max_bytes: int) -> str:
    """The file suffix for `content`, or an HTTPException saying in Chinese what is wrong with it."""
    if not content:
        raise HTTPException(status_code=400, detail=texts.PHOTO_EMPTY)
    if len(content) > max_bytes:
        raise HTTPException(status_code=413, detail=texts.PHOTO_TOO_BIG.format(mb=max_bytes / 1024 / 1024))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                kind = image.format
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError) as err:
        raise HTTPException(status_code=415, detail=texts.PHOTO_NOT_IMAGE) from err
    if kind not in SUFFIXES:
        raise HTTPException(status_code=415, detail=texts.PHOTO_NOT_IMAGE)
    return SUFFIXES[kind]
