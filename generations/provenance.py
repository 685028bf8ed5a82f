"""Provenance: what made an image, written into the file itself when it is stored.

Every PNG, JPEG and WebP Bambi stores carries, in its metadata, "Bambi AI", the generation id,
the date, the provider, the model, the prompt and the settings (and, for an edit, how many
input images and which generation it edited). Never a key, a key hint, an e-mail address or a
user id: the record is built from the fields below and nothing else, so a file shared with
anyone says how it was made and nothing about who made it.

Where (generations/metadata.py writes it without re-encoding the provider's pixels):
- XMP, in all three formats: `dc:description` (the prompt), `xmp:CreatorTool`, `xmp:CreateDate`,
  IPTC's DigitalSourceType (trained algorithmic media), and `bambi:Provenance`: the whole
  record as JSON, which `read` (and the generate page's "Import settings from an image") use;
- PNG iTXt: Software, Description, Creation Time, Source, and `bambi:provenance` (the JSON);
- Exif (JPEG, WebP): Software, DateTime and ImageDescription (the prompt, UTF-8).
The ZIP export carries the same record as a JSON file beside each image.
"""

from __future__ import annotations

import html
import io
import json
import re
from typing import Any

from PIL import Image as PILImage

from generations.metadata import JPEG_SEGMENT_MAX, JPEG_XMP_HEADER, embed

SOFTWARE = "Bambi AI"
SCHEMA = "https://bambi.ai/ns/provenance/1"
# IPTC's terms for media made by a generative model, and for an edit of existing media by one.
MADE_BY_MODEL = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
EDITED_BY_MODEL = (
    "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
)
_RECORD = re.compile(rb"<bambi:Provenance>(.*?)</bambi:Provenance>", re.DOTALL)
_EXIF_SOFTWARE, _EXIF_DATETIME, _EXIF_DESCRIPTION = 0x0131, 0x0132, 0x010E


def provenance_record(generation, *, image_index: int, inputs: int = 0) -> dict[str, Any]:
    """The record of one image of `generation` (an ImageGeneration with model and provider).

    Built field by field: `parameters` holds only validated option values and the model id
    (generation_run writes nothing else there), and nothing of the user or the key is read."""
    model = generation.model
    provider = generation.provider
    settings = {k: v for k, v in (generation.parameters or {}).items() if k != "model_id"}
    return {
        "schema": SCHEMA,
        "software": SOFTWARE,
        "generation_id": str(generation.pk),
        "image_index": image_index,
        "created_at": generation.created_at.isoformat(),
        "provider": provider.slug if provider else None,
        "provider_name": provider.name if provider else None,
        "model": (generation.parameters or {}).get("model_id") or (model and model.model_id),
        "model_name": model.name if model else None,
        "prompt": generation.prompt,
        "settings": settings,
        "input_images": inputs,
        "edited_from": str(generation.parent_id) if generation.parent_id else None,
    }


def stamp(data: bytes, *, fmt: str, record: dict[str, Any]) -> bytes:
    """`data` with `record` written into its metadata (PNG, JPEG, WebP; pixels untouched).
    Raises generations.metadata.MetadataError for another format or a malformed file."""
    xmp = _xmp(record)
    if fmt == "jpeg" and len(JPEG_XMP_HEADER + xmp) > JPEG_SEGMENT_MAX:
        # A JPEG segment holds 64 KB: a prompt of tens of thousands of characters is cut
        # there (and the record says so); PNG and WebP keep it whole.
        cut = dict(record, prompt_truncated=True)
        while len(JPEG_XMP_HEADER + xmp) > JPEG_SEGMENT_MAX:
            cut["prompt"] = cut["prompt"][: len(cut["prompt"]) * 3 // 4]
            xmp = _xmp(cut)
    text = {
        "Software": SOFTWARE,
        "Description": record["prompt"],
        "Creation Time": record["created_at"],
        "Source": f"{record['provider_name'] or ''} {record['model'] or ''}".strip(),
        "bambi:provenance": json.dumps(record, ensure_ascii=False),
    }
    return embed(data, fmt=fmt, xmp=xmp, exif=_exif(record), text=text)


def read(data: bytes) -> dict[str, Any] | None:
    """The record a Bambi file carries (from its XMP), or None when it has none."""
    packet = None
    try:
        with PILImage.open(io.BytesIO(data)) as img:
            packet = img.info.get("xmp")
    except Exception:  # noqa: BLE001 - not an image Pillow knows: search the bytes below
        packet = None
    if isinstance(packet, str):
        packet = packet.encode("utf-8")
    for source in (packet, data):
        match = _RECORD.search(source or b"")
        if match:
            try:
                record = json.loads(html.unescape(match.group(1).decode("utf-8")))
            except (ValueError, UnicodeDecodeError):
                return None
            return record if isinstance(record, dict) else None
    return None


def _xml(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _xmp(record: dict[str, Any]) -> bytes:
    source = EDITED_BY_MODEL if record.get("input_images") else MADE_BY_MODEL
    packet = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
    xmlns:bambi="{SCHEMA}#"
    xmp:CreatorTool="{SOFTWARE}"
    xmp:CreateDate="{_xml(record["created_at"])}"
    Iptc4xmpExt:DigitalSourceType="{source}"
    bambi:GenerationId="{_xml(record["generation_id"])}"
    bambi:Provider="{_xml(record["provider"] or "")}"
    bambi:Model="{_xml(record["model"] or "")}">
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{_xml(record["prompt"])}</rdf:li></rdf:Alt></dc:description>
   <bambi:Provenance>{_xml(json.dumps(record, ensure_ascii=False))}</bambi:Provenance>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="r"?>"""  # noqa: E501
    return packet.encode("utf-8")


def _exif(record: dict[str, Any]) -> bytes:
    exif = PILImage.Exif()
    exif[_EXIF_SOFTWARE] = SOFTWARE
    # "YYYY:MM:DD HH:MM:SS", in the generation's own time zone (UTC as stored).
    exif[_EXIF_DATETIME] = record["created_at"][:19].replace("-", ":", 2).replace("T", " ")
    # ASCII in the Exif standard; written as UTF-8, which current readers expect.
    exif[_EXIF_DESCRIPTION] = record["prompt"][:2000].encode("utf-8")
    return exif.tobytes()
