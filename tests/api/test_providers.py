"""OIDC provider operations through their handlers."""

from __future__ import annotations

import dataclasses

import pytest

from tests.api.conftest import NOW, call
from webfed.api.context import CallContext
from webfed.errors import EntityAlreadyExists, InvalidInput, LimitExceeded, NoSuchEntity
from webfed.settings import Settings

THUMB = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
URL = "https://server.example.com"


async def create(ctx: CallContext, url: str = URL, **extra: object) -> str:
    result = await call(ctx, "CreateOpenIDConnectProvider", Url=url, **extra)
    return str(result["OpenIDConnectProviderArn"])


async def test_create_and_get(ctx: CallContext) -> None:
    arn = await create(
        ctx,
        ClientIDList=["app-1", "app-2", "app-1"],
        ThumbprintList=[THUMB],
        Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}],
    )
    assert arn == f"arn:aws:iam::{ctx.account_id}:oidc-provider/server.example.com"
    got = await call(ctx, "GetOpenIDConnectProvider", OpenIDConnectProviderArn=arn)
    assert got == {
        "Url": "server.example.com",
        "ClientIDList": ["app-1", "app-2"],
        "ThumbprintList": [THUMB],
        "CreateDate": NOW,
        "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
    }


async def test_create_without_thumbprints_or_clients(ctx: CallContext) -> None:
    arn = await create(ctx, "https://token.actions.githubusercontent.com")
    got = await call(ctx, "GetOpenIDConnectProvider", OpenIDConnectProviderArn=arn)
    assert got["ThumbprintList"] == [] and got["ClientIDList"] == []


async def test_path_is_part_of_the_arn(ctx: CallContext) -> None:
    arn = await create(ctx, "https://example.com/tenants/one")
    assert arn.endswith(":oidc-provider/example.com/tenants/one")


async def test_duplicate_url(ctx: CallContext) -> None:
    await create(ctx)
    with pytest.raises(EntityAlreadyExists) as caught:
        await create(ctx)
    assert (caught.value.status, caught.value.message) == (
        409,
        f"Provider with url {URL} already exists.",
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://server.example.com",
        "server.example.com",
        "ftp://server.example.com",
        "https://server.example.com:8443",
        "https://server.example.com?x=1",
        "https://server.example.com#frag",
        "https://user@server.example.com",
        "https://",
        "https://server.example.com/a b",
    ],
    ids=["http", "no-scheme", "ftp", "port", "query", "fragment", "userinfo", "no-host", "space"],
)
async def test_invalid_urls(ctx: CallContext, url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await create(ctx, url)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080", "https://127.0.0.1:9443/realm"],
    ids=["http-port", "https-port"],
)
async def test_allow_http_issuers_accepts_local_issuers(ctx: CallContext, url: str) -> None:
    relaxed = dataclasses.replace(ctx, settings=Settings(allow_http_issuers=True))
    arn = await create(relaxed, url)
    assert arn.endswith(":oidc-provider/" + url.split("://", 1)[1])


@pytest.mark.parametrize(
    "thumbprints",
    [["z" * 40], ["a" * 39], [THUMB] * 6],
    ids=["not-hex", "short", "six"],
)
async def test_invalid_thumbprints(ctx: CallContext, thumbprints: list[str]) -> None:
    with pytest.raises(InvalidInput):
        await create(ctx, ThumbprintList=thumbprints)


async def test_client_id_quota(ctx: CallContext) -> None:
    with pytest.raises(LimitExceeded):
        await create(ctx, ClientIDList=[f"c{index}" for index in range(101)])
    arn = await create(ctx, ClientIDList=[f"c{index}" for index in range(100)])
    await call(
        ctx, "AddClientIDToOpenIDConnectProvider", OpenIDConnectProviderArn=arn, ClientID="c5"
    )
    with pytest.raises(LimitExceeded) as caught:
        await call(
            ctx, "AddClientIDToOpenIDConnectProvider", OpenIDConnectProviderArn=arn, ClientID="new"
        )
    assert caught.value.status == 409


async def test_client_ids_are_idempotent(ctx: CallContext) -> None:
    arn = await create(ctx, ClientIDList=["a"])
    target = {"OpenIDConnectProviderArn": arn}
    for _ in range(2):
        await call(ctx, "AddClientIDToOpenIDConnectProvider", ClientID="b", **target)
    got = await call(ctx, "GetOpenIDConnectProvider", **target)
    assert got["ClientIDList"] == ["a", "b"]
    for _ in range(2):
        await call(ctx, "RemoveClientIDFromOpenIDConnectProvider", ClientID="a", **target)
    got = await call(ctx, "GetOpenIDConnectProvider", **target)
    assert got["ClientIDList"] == ["b"]


async def test_update_thumbprint_replaces(ctx: CallContext) -> None:
    arn = await create(ctx, ThumbprintList=[THUMB])
    other = "0" * 40
    await call(
        ctx,
        "UpdateOpenIDConnectProviderThumbprint",
        OpenIDConnectProviderArn=arn,
        ThumbprintList=[other],
    )
    got = await call(ctx, "GetOpenIDConnectProvider", OpenIDConnectProviderArn=arn)
    assert got["ThumbprintList"] == [other]


async def test_list_and_delete(ctx: CallContext) -> None:
    second = await create(ctx, "https://b.example.com")
    first = await create(ctx, "https://a.example.com")
    listed = await call(ctx, "ListOpenIDConnectProviders")
    assert listed == {"OpenIDConnectProviderList": [{"Arn": first}, {"Arn": second}]}
    await call(ctx, "DeleteOpenIDConnectProvider", OpenIDConnectProviderArn=first)
    listed = await call(ctx, "ListOpenIDConnectProviders")
    assert listed == {"OpenIDConnectProviderList": [{"Arn": second}]}
    with pytest.raises(NoSuchEntity) as caught:
        await call(ctx, "DeleteOpenIDConnectProvider", OpenIDConnectProviderArn=first)
    assert caught.value.message == f"OpenIDConnect Provider not found for arn {first}"


@pytest.mark.parametrize(
    "operation",
    [
        "GetOpenIDConnectProvider",
        "DeleteOpenIDConnectProvider",
        "ListOpenIDConnectProviderTags",
    ],
    ids=lambda name: name,
)
async def test_missing_provider(ctx: CallContext, operation: str) -> None:
    arn = f"arn:aws:iam::{ctx.account_id}:oidc-provider/nowhere.example.com"
    with pytest.raises(NoSuchEntity) as caught:
        await call(ctx, operation, OpenIDConnectProviderArn=arn)
    assert caught.value.status == 404


async def test_other_accounts_provider_is_not_found(ctx: CallContext) -> None:
    await create(ctx)
    arn = "arn:aws:iam::111111111111:oidc-provider/server.example.com"
    with pytest.raises(NoSuchEntity):
        await call(ctx, "GetOpenIDConnectProvider", OpenIDConnectProviderArn=arn)


@pytest.mark.parametrize(
    "arn", ["arn:aws:iam::123:oidc-provider/x", "not-an-arn-at-all-really"], ids=["account", "junk"]
)
async def test_malformed_provider_arn(ctx: CallContext, arn: str) -> None:
    with pytest.raises(InvalidInput):
        await call(ctx, "GetOpenIDConnectProvider", OpenIDConnectProviderArn=arn)


async def test_provider_quota(ctx: CallContext) -> None:
    for index in range(100):
        await create(ctx, f"https://p{index}.example.com")
    with pytest.raises(LimitExceeded) as caught:
        await create(ctx, "https://one-too-many.example.com")
    assert caught.value.status == 409


async def test_provider_tags_are_case_sensitive(ctx: CallContext) -> None:
    arn = await create(ctx, Tags=[{"Key": "env", "Value": "1"}, {"Key": "ENV", "Value": "2"}])
    target = {"OpenIDConnectProviderArn": arn}
    await call(ctx, "TagOpenIDConnectProvider", Tags=[{"Key": "env", "Value": "3"}], **target)
    tags = await call(ctx, "ListOpenIDConnectProviderTags", **target)
    assert tags == {
        "Tags": [{"Key": "ENV", "Value": "2"}, {"Key": "env", "Value": "3"}],
        "IsTruncated": False,
    }
    await call(ctx, "UntagOpenIDConnectProvider", TagKeys=["Env", "env"], **target)
    tags = await call(ctx, "ListOpenIDConnectProviderTags", **target)
    assert tags["Tags"] == [{"Key": "ENV", "Value": "2"}]
    with pytest.raises(InvalidInput) as caught:
        await call(ctx, "TagOpenIDConnectProvider", Tags=[{"Key": "x", "Value": "1"}] * 2, **target)
    assert caught.value.message == "Duplicate tag keys found."


async def test_provider_tag_pagination(ctx: CallContext) -> None:
    keys = [f"key{index:02d}" for index in range(25)]
    arn = await create(ctx, Tags=[{"Key": key, "Value": "v"} for key in reversed(keys)])
    seen: list[str] = []
    marker = None
    while True:
        extra = {"Marker": marker} if marker else {}
        page = await call(
            ctx, "ListOpenIDConnectProviderTags", OpenIDConnectProviderArn=arn, MaxItems=10, **extra
        )
        seen += [tag["Key"] for tag in page["Tags"]]
        if not page["IsTruncated"]:
            break
        marker = page["Marker"]
    assert seen == keys


async def test_provider_tag_quota(ctx: CallContext) -> None:
    arn = await create(ctx, Tags=[{"Key": f"k{index}", "Value": "v"} for index in range(50)])
    with pytest.raises(LimitExceeded) as caught:
        await call(
            ctx,
            "TagOpenIDConnectProvider",
            OpenIDConnectProviderArn=arn,
            Tags=[{"Key": "K0", "Value": "v"}],
        )
    assert caught.value.message == "Cannot exceed quota for TagsPerOpenIDConnectProvider: 50"
