"""The user's data export: a ZIP of every image plus `generations.json` (GDPR access and
portability), from the account page.

Beside each image, `<image file>.json` holds its provenance (generations/provenance.py: the same
record the file carries in its metadata); an edit's input images are under `inputs/`."""

from __future__ import annotations

import json
import logging
import tempfile
import zipfile

from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import User
from generations.models import ImageGeneration
from generations.provenance import provenance_record
from generations.selectors import generations_for

logger = logging.getLogger(__name__)


def generation_as_export(
    generation: ImageGeneration, image_names: list[dict], input_names: list[dict] | None = None
) -> dict:
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
        "edited_from": str(generation.parent_id) if generation.parent_id else None,
        "images": image_names,
        "inputs": input_names or [],
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
                day = f"{generation.created_at:%Y-%m-%d}"
                inputs = list(generation.inputs.all())
                input_names = []
                for item in inputs:
                    ext = item.storage_path.rsplit(".", 1)[-1]
                    kind = "mask" if item.is_mask else f"input{item.index}"
                    name = f"inputs/{day}_{generation.pk}_{kind}.{ext}"
                    if _copy(archive, item.storage_path, name, generation):
                        input_names.append(
                            {
                                "file": name,
                                "mask": item.is_mask,
                                "width": item.width,
                                "height": item.height,
                                "format": item.format,
                            }
                        )
                images = []
                edited_with = sum(1 for item in inputs if not item.is_mask)
                for image in generation.images.all():
                    ext = image.storage_path.rsplit(".", 1)[-1]
                    name = f"images/{day}_{generation.pk}_{image.index}.{ext}"
                    if not _copy(archive, image.storage_path, name, generation):
                        continue
                    record = provenance_record(
                        generation, image_index=image.index, inputs=edited_with
                    )
                    archive.writestr(
                        zipfile.ZipInfo(f"{name}.json", date_time=_zip_time(generation)),
                        json.dumps(record, indent=2, ensure_ascii=False),
                    )
                    images.append(
                        {
                            "file": name,
                            "width": image.width,
                            "height": image.height,
                            "format": image.format,
                            "revised_prompt": image.revised_prompt,
                        }
                    )
                rows.append(generation_as_export(generation, images, input_names))
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


def _copy(archive: zipfile.ZipFile, path: str, name: str, generation: ImageGeneration) -> bool:
    """Copy a stored file into the archive as `name`; False (logged) when it is missing."""
    try:
        with default_storage.open(path, "rb") as source:
            # Images are compressed already: store them as they are.
            with archive.open(zipfile.ZipInfo(name, date_time=_zip_time(generation)), "w") as out:
                for chunk in iter(lambda: source.read(1024 * 1024), b""):
                    out.write(chunk)
    except (FileNotFoundError, OSError):
        logger.warning("Export: file %s is missing", path)
        return False
    return True


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
