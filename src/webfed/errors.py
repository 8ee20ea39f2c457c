"""The one exception tree of webfed.

Every failure that can reach a client is a :class:`WebfedError` leaf. A leaf knows its AWS error
code, its HTTP status and whether the fault is the sender's or the receiver's; it never knows wire
bytes. The protocol adapters (``webfed.protocol``) turn a leaf into the envelope of the protocol
the request arrived on (Query XML ``ErrorResponse``, JSON ``{"__type", "message"}``, S3 XML).

Some AWS services spell the same failure differently: the Query services say ``AccessDenied``
where the JSON services say ``AccessDeniedException``. A leaf therefore carries ``code`` (Query
spelling) and ``json_code`` (JSON 1.0/1.1 spelling, defaulting to ``code``).

    WebfedError
    ├── RequestError                     malformed or invalid requests (protocol level)
    │   ├── InvalidAction, MissingAction, MissingParameter, ValidationError,
    │   ├── InvalidParameterValue, InvalidParameterCombination, InvalidQueryParameter,
    │   ├── MalformedQueryString, SerializationError, UnknownOperation, RequestEntityTooLarge,
    │   ├── IncompleteBody
    │   └── InvalidParameterException (Cognito spelling of a validation failure)
    ├── AuthError                        who is calling, and may they
    │   ├── MissingAuthenticationToken, IncompleteSignature, InvalidClientTokenId,
    │   ├── SignatureDoesNotMatch, RequestExpired, ExpiredToken, AccessDenied, NotAuthorized
    ├── IamError                         IAM control-plane failures
    ├── StsError                         STS federation failures
    ├── CognitoError                     identity-pool failures
    └── ServerError                      InternalFailure, ServiceUnavailable, Throttling

Messages must never contain a secret, a token or a session token: they go back to the caller
and into logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

__all__ = [
    "AccessDenied",
    "AuthError",
    "CognitoError",
    "ConcurrentModification",
    "ConcurrentModificationException",
    "DeleteConflict",
    "DeveloperUserAlreadyRegistered",
    "EntityAlreadyExists",
    "ExpiredToken",
    "ExpiredTokenException",
    "ExternalServiceException",
    "IDPCommunicationError",
    "IDPRejectedClaim",
    "IamError",
    "IncompleteBody",
    "IncompleteSignature",
    "InternalErrorException",
    "InternalFailure",
    "InvalidAction",
    "InvalidAuthorizationMessage",
    "InvalidClientTokenId",
    "InvalidConfiguration",
    "InvalidIdentityPoolConfiguration",
    "InvalidIdentityToken",
    "InvalidInput",
    "InvalidParameterCombination",
    "InvalidParameterException",
    "InvalidParameterValue",
    "InvalidQueryParameter",
    "LimitExceeded",
    "LimitExceededException",
    "MalformedPolicyDocument",
    "MalformedQueryString",
    "MasterKeyError",
    "MissingAction",
    "MissingAuthenticationToken",
    "MissingParameter",
    "NoSuchEntity",
    "NotAuthorized",
    "OpenIdIdpCommunicationError",
    "PackedPolicyTooLarge",
    "PolicyNotAttachable",
    "RegionDisabled",
    "RequestEntityTooLarge",
    "RequestError",
    "RequestExpired",
    "RequestTimeout",
    "ResourceConflict",
    "ResourceNotFound",
    "SerializationError",
    "ServerError",
    "ServiceFailure",
    "ServiceUnavailable",
    "SignatureDoesNotMatch",
    "StsError",
    "Throttling",
    "TooManyRequests",
    "UnknownOperation",
    "UnmodifiableEntity",
    "ValidationError",
    "WebfedError",
    "XAmzContentSHA256Mismatch",
]


class WebfedError(Exception):
    """Base of every error a client can see.

    ``encoded_message`` is the opaque, encrypted explanation of a denial that only an
    administrator can decode (``sts:DecodeAuthorizationMessage``); adapters append it to the
    message as AWS does ("Encoded authorization failure message: ...").
    ``explanation`` is that explanation in clear, before encryption (see ``__init__``).
    """

    code: ClassVar[str] = "InternalFailure"
    json_code: ClassVar[str | None] = None
    status: ClassVar[int] = 500
    sender_fault: ClassVar[bool] = False

    def __init__(
        self,
        message: str = "",
        *,
        encoded_message: str | None = None,
        explanation: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.encoded_message = encoded_message
        # What exactly failed, for the administrator only: which check, which key, what was
        # wanted and what was seen. Never a token or a secret. The API layer encrypts it into
        # ``encoded_message`` (sts:DecodeAuthorizationMessage) and writes it to the audit log.
        self.explanation = explanation

    @property
    def wire_json_code(self) -> str:
        """The code under the JSON protocols (``__type``)."""
        return self.json_code or self.code

    @property
    def full_message(self) -> str:
        if self.encoded_message is None:
            return self.message
        sentence = self.message if self.message.endswith(".") else f"{self.message}."
        return f"{sentence} Encoded authorization failure message: {self.encoded_message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.status}, {self.message!r})"


# --- protocol-level request errors -----------------------------------------------------------


class RequestError(WebfedError):
    status = 400
    sender_fault = True


class InvalidAction(RequestError):
    code = "InvalidAction"
    json_code = "UnknownOperationException"


class UnknownOperation(RequestError):
    code = "UnknownOperationException"


class MissingAction(RequestError):
    code = "MissingAction"


class MissingParameter(RequestError):
    code = "MissingParameter"


class ValidationError(RequestError):
    code = "ValidationError"
    json_code = "ValidationException"


class InvalidParameterException(RequestError):
    """Cognito Identity's spelling of a bad parameter."""

    code = "InvalidParameterException"


class InvalidParameterValue(RequestError):
    code = "InvalidParameterValue"


class InvalidParameterCombination(RequestError):
    code = "InvalidParameterCombination"


class InvalidQueryParameter(RequestError):
    code = "InvalidQueryParameter"


class MalformedQueryString(RequestError):
    code = "MalformedQueryString"
    status = 404


class SerializationError(RequestError):
    """A JSON body that does not parse or does not fit the input shape."""

    code = "SerializationException"


class RequestEntityTooLarge(RequestError):
    code = "RequestEntityTooLarge"
    status = 413


class RequestTimeout(RequestError):
    """The client did not send the body it announced in time (slow clients hold no worker)."""

    code = "RequestTimeout"
    status = 408


class IncompleteBody(RequestError):
    """The body is shorter or longer than its declared Content-Length (S3's spelling)."""

    code = "IncompleteBody"


# --- authentication and authorization ---------------------------------------------------------


class AuthError(WebfedError):
    status = 403
    sender_fault = True


class MissingAuthenticationToken(AuthError):
    code = "MissingAuthenticationToken"
    json_code = "MissingAuthenticationTokenException"


class IncompleteSignature(AuthError):
    code = "IncompleteSignature"
    json_code = "IncompleteSignatureException"
    status = 400


class InvalidClientTokenId(AuthError):
    code = "InvalidClientTokenId"
    json_code = "UnrecognizedClientException"


class SignatureDoesNotMatch(AuthError):
    code = "SignatureDoesNotMatch"
    json_code = "InvalidSignatureException"


class RequestExpired(AuthError):
    code = "RequestExpired"
    json_code = "InvalidSignatureException"
    status = 400


class ExpiredToken(AuthError):
    """The security token of a signed request has expired."""

    code = "ExpiredToken"
    json_code = "ExpiredTokenException"


class AccessDenied(AuthError):
    code = "AccessDenied"
    json_code = "AccessDeniedException"


class NotAuthorized(AuthError):
    """Cognito Identity's denial."""

    code = "NotAuthorizedException"


class XAmzContentSHA256Mismatch(AuthError):
    """The body does not hash to its declared ``x-amz-content-sha256`` (S3's code)."""

    code = "XAmzContentSHA256Mismatch"
    status = 400


# --- IAM --------------------------------------------------------------------------------------


class IamError(WebfedError):
    status = 400
    sender_fault = True


class NoSuchEntity(IamError):
    code = "NoSuchEntity"
    status = 404


class EntityAlreadyExists(IamError):
    code = "EntityAlreadyExists"
    status = 409


class LimitExceeded(IamError):
    code = "LimitExceeded"
    status = 409


class DeleteConflict(IamError):
    code = "DeleteConflict"
    status = 409


class ConcurrentModification(IamError):
    code = "ConcurrentModification"
    status = 409


class InvalidInput(IamError):
    code = "InvalidInput"


class InvalidConfiguration(InvalidInput):
    """A declarative configuration file (``webfed apply -f``) with problems; one line each."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class MalformedPolicyDocument(IamError):
    """A policy document that does not parse or breaks a rule of the policy grammar.

    Raised by the policy engine for every kind of policy (identity, trust, resource, session).
    """

    code = "MalformedPolicyDocument"
    json_code = "MalformedPolicyDocumentException"


class PolicyNotAttachable(IamError):
    code = "PolicyNotAttachable"


class UnmodifiableEntity(IamError):
    code = "UnmodifiableEntity"


class OpenIdIdpCommunicationError(IamError):
    code = "OpenIdIdpCommunicationError"


class ServiceFailure(IamError):
    code = "ServiceFailure"
    status = 500
    sender_fault = False


# --- STS --------------------------------------------------------------------------------------


class StsError(WebfedError):
    status = 400
    sender_fault = True


class InvalidIdentityToken(StsError):
    code = "InvalidIdentityToken"


class ExpiredTokenException(StsError):
    """A web identity token that has expired (note the code: not ``ExpiredToken``)."""

    code = "ExpiredTokenException"


class IDPRejectedClaim(StsError):
    code = "IDPRejectedClaim"
    status = 403


class IDPCommunicationError(StsError):
    code = "IDPCommunicationError"


class PackedPolicyTooLarge(StsError):
    code = "PackedPolicyTooLarge"


class InvalidAuthorizationMessage(StsError):
    """``sts:DecodeAuthorizationMessage`` was given a message webfed did not encode (or can no
    longer decode: its key has been retired past its grace period)."""

    code = "InvalidAuthorizationMessageException"


class RegionDisabled(StsError):
    code = "RegionDisabledException"
    status = 403


# --- Cognito Identity -------------------------------------------------------------------------


class CognitoError(WebfedError):
    status = 400
    sender_fault = True


class ResourceNotFound(CognitoError):
    code = "ResourceNotFoundException"
    status = 404


class ResourceConflict(CognitoError):
    code = "ResourceConflictException"
    status = 409


class TooManyRequests(CognitoError):
    code = "TooManyRequestsException"
    status = 429


class InvalidIdentityPoolConfiguration(CognitoError):
    code = "InvalidIdentityPoolConfigurationException"


class ExternalServiceException(CognitoError):
    code = "ExternalServiceException"


class LimitExceededException(CognitoError):
    code = "LimitExceededException"


class DeveloperUserAlreadyRegistered(CognitoError):
    code = "DeveloperUserAlreadyRegisteredException"


class ConcurrentModificationException(CognitoError):
    code = "ConcurrentModificationException"


class InternalErrorException(CognitoError):
    code = "InternalErrorException"
    status = 500
    sender_fault = False


# --- server side ------------------------------------------------------------------------------


class ServerError(WebfedError):
    status = 500
    sender_fault = False


class InternalFailure(ServerError):
    code = "InternalFailure"
    json_code = "InternalFailure"


class MasterKeyError(InternalFailure):
    """The master key is missing, malformed, too widely readable, or does not unwrap the stored
    keys. Raised at start (the server refuses to run); the message never holds key material."""


class ServiceUnavailable(ServerError):
    code = "ServiceUnavailable"
    json_code = "ServiceUnavailableException"
    status = 503


class Throttling(ServerError):
    code = "Throttling"
    json_code = "ThrottlingException"
    status = 400
    sender_fault = True
