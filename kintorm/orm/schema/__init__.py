"""Models and collections in agreement: a model's JSON schema (:mod:`.build`) and the
sync of a collection's ``schema``, ``uiSchema`` and ``displayFields`` (:mod:`.sync`).
See docs/schema.md."""

from kintorm.orm.schema.build import SchemaError, json_schema
from kintorm.orm.schema.sync import Failure, SchemaDiff, SchemaSync, sync_schema_op

__all__ = ["Failure", "SchemaDiff", "SchemaError", "SchemaSync", "json_schema", "sync_schema_op"]
