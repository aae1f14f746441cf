"""Text detection and recognition: RapidOCR on ONNX Runtime, with the models its wheel ships.

The ``rapidocr`` 3.x wheel carries PP-OCRv6 small detection and recognition models (Chinese,
the recognition dictionary inside the ONNX file) and a v2.0 direction classifier. RapidOCR
downloads a model whenever a configured one is missing, so every model path is given
explicitly and checked before the engine is built: nothing is ever fetched at run time (a
test runs OCR with sockets blocked). The classifier is not used: pages are deskewed, and
upside-down lines do not occur in these reports.

One engine per process, built on first use (~1.5 s), shared by all threads under a lock (the
work is CPU-bound; two documents at once gain nothing on one process).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The model files the engine loads, as shipped in the rapidocr wheel (``rapidocr/models``).
DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
#: Narrowest recognition input (pixels at height 48): RapidOCR pads every crop to 320 by default,
#: which costs 3-4x on the short numbers that fill these tables.
REC_MIN_WIDTH = 96
REC_BATCH = 16


class OcrUnavailable(RuntimeError):
    """The OCR stack cannot run here (a package or a bundled model file is missing)."""


@dataclass(frozen=True, slots=True)
class Reading:
    """What recognition made of one crop."""

    text: str
    score: float


def model_dir() -> Path:
    """Where the rapidocr wheel keeps its models."""
    import importlib.util

    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise OcrUnavailable("the rapidocr package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def bundled_models() -> dict[str, Path]:
    """Paths of the detection and recognition models in the installed wheel (checked to exist)."""
    root = model_dir()
    models = {"det": root / DET_MODEL, "rec": root / REC_MODEL}
    missing = [str(p) for p in models.values() if not p.is_file()]
    if missing:
        raise OcrUnavailable(f"bundled OCR model(s) missing: {', '.join(missing)} (rapidocr wheel changed?)")
    return models


def engine_params(threads: int = 0) -> dict[str, Any]:
    """RapidOCR parameters: bundled models by path, no classifier, quiet."""
    models = bundled_models()
    params: dict[str, Any] = {
        "Global.use_cls": False,
        "Global.log_level": "error",
        "Global.model_root_dir": str(models["det"].parent),
        "Det.model_path": str(models["det"]),
        "Rec.model_path": str(models["rec"]),
        "Rec.rec_img_shape": [3, 48, REC_MIN_WIDTH],
        "Rec.rec_batch_num": REC_BATCH,
    }
    if threads:
        params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
        params["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
    return params


class OcrEngine:
    """Detection of text lines on a page image and batched recognition of crops."""

    def __init__(self, threads: int = 0) -> None:
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:
            raise OcrUnavailable(f"the OCR stack cannot be imported: {exc}") from exc
        self._ocr = RapidOCR(params=engine_params(threads))
        self._lock = threading.Lock()
        # both models are loaded now, so a missing file shows here and not in the middle of a page
        self._det = self._ocr._load_det_model()
        self._rec = self._ocr._load_rec_model()

    def detect(self, image: Any) -> list[tuple[Any, float]]:
        """Text line quadrilaterals (4x2 arrays, image pixels) with their detection scores."""
        with self._lock:
            out = self._ocr(image, use_det=True, use_cls=False, use_rec=False)
        boxes = getattr(out, "boxes", None)
        if boxes is None:
            return []
        scores = getattr(out, "scores", None) or [1.0] * len(boxes)
        return [(box, float(score)) for box, score in zip(boxes, scores, strict=False)]

    def recognize(self, crops: list[Any]) -> list[Reading]:
        """The text of each crop (BGR or grey uint8 arrays), in order."""
        if not crops:
            return []
        import cv2
        from rapidocr.ch_ppocr_rec import TextRecInput

        images = [cv2.cvtColor(c, cv2.COLOR_GRAY2BGR) if c.ndim == 2 else c for c in crops]
        with self._lock:
            out = self._rec(TextRecInput(img=images))
        return [Reading(str(t), float(s)) for t, s in zip(out.txts, out.scores, strict=True)]


_ENGINES: dict[int, OcrEngine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(threads: int = 0) -> OcrEngine:
    """The process's engine (built once)."""
    with _ENGINES_LOCK:
        engine = _ENGINES.get(threads)
        if engine is None:
            engine = _ENGINES[threads] = OcrEngine(threads)
        return engine


__all__ = ["DET_MODEL", "REC_MODEL", "OcrEngine", "OcrUnavailable", "Reading", "bundled_models", "get_engine"]
