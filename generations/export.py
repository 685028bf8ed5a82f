"""The user's data export: a ZIP of every image plus `generations.json` (GDPR access and
portability), from the account page."""

from __future__ import annotations

import json
import logging
import tempfile
import zipfile

from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import User
from generations.models import ImageGeneration
from generations.selectors import generations_for

logger = logging.getLogger(__name__)


def generation_as_export(generation: ImageGeneration, image_names: list[dict]) -> dict:
    return {
        "id": str(generation.pk),
        "status": generation.status,
        "prompt": generation.prompt,
        "parameters": generation.parameters,
        "model": generation.model.model_id if generation.model else None,
        "provider": generation.provider.slug if generation.provider else None,
        "error_message": generation.error_message,
        "cost_estimate": str(generation.cost_estimate) if generation.cost_estimate else None,
        "duration_ms": generation.duration_ms,
        "created_at": generation.created_at.isoformat(),
        "images": image_names,
    }


def user_data_export(*, user: User):
    """A ZIP of all the user's images plus `generations.json`, in a temporary file.

    Returned open and rewound; the caller streams it (FileResponse closes it, which deletes
    it). Built on disk, not in memory: a gallery can be gigabytes.
    """
    handle = tempfile.TemporaryFile(suffix=".zip")
    try:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            rows = []
            for generation in generations_for(user=user).iterator(chunk_size=200):
                images = []
                for image in generation.images.all():
                    ext = image.storage_path.rsplit(".", 1)[-1]
                    day = f"{generation.created_at:%Y-%m-%d}"
                    name = f"images/{day}_{generation.pk}_{image.index}.{ext}"
                    try:
                        with default_storage.open(image.storage_path, "rb") as source:
                            # Images are compressed already: store them as they are.
                            with archive.open(
                                zipfile.ZipInfo(name, date_time=_zip_time(generation)), "w"
                            ) as target:
                                for chunk in iter(lambda: source.read(1024 * 1024), b""):
                                    target.write(chunk)
                    except (FileNotFoundError, OSError):
                        logger.warning("Export: file %s is missing", image.storage_path)
                        continue
                    images.append(
                        {
                            "file": name,
                            "width": image.width,
                            "height": image.height,
                            "format": image.format,
                            "revised_prompt": image.revised_prompt,
                        }
                    )
                rows.append(generation_as_export(generation, images))
            archive.writestr(
                "generations.json",
                json.dumps(
                    {
                        "exported_at": timezone.now().isoformat(),
                        "account": user.email,
                        "generations": rows,
                    },
                    indent=2,
                    ensure_ascii=False,
                ),
            )
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return handle


def _zip_time(generation: ImageGeneration):
    moment = generation.created_at
    return (
        max(moment.year, 1980),
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
    )
