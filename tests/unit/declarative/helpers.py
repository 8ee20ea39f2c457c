"""Shared builders for the declarative tests."""

from __future__ import annotations

import json
import textwrap

from webfed.declarative.model import PolicyDocument
from webfed.declarative.schema import Config, read_config
from webfed.declarative.source import Problem

ACCOUNT = "123456789012"
ISSUER = "https://accounts.example.com"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/accounts.example.com"


def trust(provider_arn: str = PROVIDER_ARN, audience: str = "game-app") -> PolicyDocument:
    host = provider_arn.split("oidc-provider/", 1)[1]
    return PolicyDocument.from_value(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {f"{host}:aud": audience}},
                }
            ],
        }
    )


def allow(action: str = "s3:GetObject", resource: str = "arn:aws:s3:::bucket/*") -> PolicyDocument:
    return PolicyDocument.from_value(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
        }
    )


def read(text: str) -> tuple[Config | None, list[Problem]]:
    return read_config(textwrap.dedent(text))


def load(text: str) -> Config:
    config, problems = read(text)
    assert problems == [], [str(p) for p in problems]
    assert config is not None
    return config


def json_text(document: PolicyDocument) -> str:
    return json.dumps(json.loads(document.text))


FULL = """\
    version: 1
    settings:
      region: eu-west-1
    providers:
      - url: https://accounts.example.com
        client_ids: [game-app, web-app]
        thumbprints: [9e99a48a9960b14926bb7f3b02e22da2b0ab7280]
        tags: {team: games}
    policies:
      - name: scores-read
        path: /game/
        description: Read the score table
        document:
          Version: 2012-10-17
          Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:Query]
              Resource: arn:aws:dynamodb:us-east-1:123456789012:table/scores
      - name: boundary
        document: '{"Version": "2012-10-17",
          "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
    roles:
      - name: game-player
        description: Players signed in with the game's IdP
        max_session_duration: 7200
        trust_policy:
          Version: 2012-10-17
          Statement:
            - Effect: Allow
              Principal: {Federated: arn:aws:iam::123456789012:oidc-provider/accounts.example.com}
              Action: sts:AssumeRoleWithWebIdentity
              Condition:
                StringEquals: {"accounts.example.com:aud": game-app}
        inline_policies:
          own-saves:
            Version: 2012-10-17
            Statement:
              - Effect: Allow
                Action: s3:GetObject
                Resource: "arn:aws:s3:::saves/${accounts.example.com:sub}/*"
        managed_policies: [scores-read]
        permissions_boundary: boundary
        tags: {Team: games}
"""
