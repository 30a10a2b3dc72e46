"""The public surface: kintorm's __all__ is complete and holds what SPEC names."""

from __future__ import annotations

import kintorm
import kintorm.cli_utils
import kintorm.client
import kintorm.orm

SPEC_CLIENT = {
    "Client",
    "AsyncClient",
    "KintoClient",
    "KintoException",
    "BucketNotFound",
    "CollectionNotFound",
    "KintoBatchException",
    "BackoffException",
    "BasicPatch",
    "MergePatch",
    "JSONPatch",
    "TokenAuth",
    "BearerTokenAuth",
}
SPEC_MAPPER = {"Record", "connect", "ConflictError", "DoesNotExist", "ValidationError"}


def _public(module: object) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("kintorm")
    }


def test_all_lists_every_public_name_and_only_existing_ones() -> None:
    assert set(kintorm.__all__) >= _public(kintorm)
    assert all(hasattr(kintorm, name) for name in kintorm.__all__)
    assert len(kintorm.__all__) == len(set(kintorm.__all__))


def test_spec_names_are_exported() -> None:
    assert set(kintorm.__all__) >= SPEC_CLIENT | SPEC_MAPPER
    assert kintorm.KintoClient is kintorm.Client


def test_the_client_package_is_re_exported_whole() -> None:
    missing = set(kintorm.client.__all__) - set(kintorm.__all__)
    assert not missing, f"kintorm.client exports {missing} but kintorm does not"


def test_orm_names_at_the_top_are_the_orm_objects() -> None:
    shared = set(kintorm.orm.__all__) & set(kintorm.__all__)
    assert shared >= SPEC_MAPPER
    assert all(getattr(kintorm, name) is getattr(kintorm.orm, name) for name in shared)


def test_cli_utils_names() -> None:
    for name in ("set_parser_server_options", "add_parser_options", "setup_logger"):
        assert callable(getattr(kintorm.cli_utils, name))
    assert kintorm.cli_utils.add_parser_options is kintorm.cli_utils.set_parser_server_options
    assert callable(kintorm.cli_utils.create_client_from_args)


def test_kinto_http_top_level_names_of_the_signing_work() -> None:
    import kinto_http

    from kintorm.client.login import BrowserOAuth

    assert "BrowserOAuth" in kinto_http.__all__
    assert kintorm.BrowserOAuth is kintorm.client.BrowserOAuth is BrowserOAuth
    assert "BrowserOAuth" in kintorm.__all__


def test_replicate_has_kinto_http_call_shape() -> None:
    import inspect

    import kinto_http.replication

    import kintorm.replication

    theirs = list(inspect.signature(kinto_http.replication.replicate).parameters)
    ours = list(inspect.signature(kintorm.replication.replicate).parameters)
    assert ours[: len(theirs)] == theirs == ["origin", "destination"]
    assert all(
        p.default is not inspect.Parameter.empty
        for p in inspect.signature(kintorm.replication.replicate).parameters.values()
        if p.name not in theirs
    )
