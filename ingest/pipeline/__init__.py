"""The service layer: the only code of ``ingest/`` that opens a transaction and commits.

Pipeline.poll_feed(feed_id)        polling.py    feed → pending article rows
Pipeline.process_article(id)       articles.py   page → clean → fingerprint → match → stored
Pipeline.run_once(feed_ids)        service.py    the embedded one-shot pass over many feeds
"""

from ingest.pipeline.base import PipelineConfig
from ingest.pipeline.service import Pipeline, ProgressHook

__all__ = ["Pipeline", "PipelineConfig", "ProgressHook"]
