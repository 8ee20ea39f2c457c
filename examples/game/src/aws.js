// The player's AWS session: identity-pool credentials and the S3 and DynamoDB clients.
//
// Credentials come from webfed's Cognito Identity API (GetId, then GetCredentialsForIdentity)
// through the SDK's own fromCognitoIdentityPool; every other call goes to webfed's gateways,
// signed with those temporary credentials. The SDK refreshes the credentials by itself when
// they come within five minutes of their expiration.

import { CognitoIdentityClient } from "@aws-sdk/client-cognito-identity";
import {
  DynamoDBClient, PutItemCommand, QueryCommand,
} from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { fromCognitoIdentityPool } from "@aws-sdk/credential-providers";

/**
 * Opens a session. `login` is `{ key, idToken }` for a signed-in player, or null for a guest.
 * `onCredentials({ identityId, expiration, fetches })` is told of every credential fetch.
 */
export async function openSession(config, login, onCredentials) {
  const cognito = new CognitoIdentityClient({
    region: config.region,
    endpoint: config.cognitoIdentityEndpoint,
  });
  let fetches = 0;
  // Counts the GetCredentialsForIdentity calls the SDK makes: the page shows the number, and
  // the browser test reads it to see the SDK refresh short-lived credentials.
  cognito.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === "GetCredentialsForIdentityCommand") {
        fetches += 1;
        const credentials = result.output.Credentials ?? {};
        onCredentials({
          identityId: result.output.IdentityId,
          expiration: credentials.Expiration,
          fetches,
        });
      }
      return result;
    },
    { step: "initialize", name: "webfedGameCountCredentialFetches" },
  );
  const credentials = fromCognitoIdentityPool({
    client: cognito,
    identityPoolId: config.identityPoolId,
    logins: login ? { [login.key]: login.idToken } : undefined,
  });
  const first = await credentials();
  const s3 = new S3Client({
    region: config.region,
    endpoint: config.s3Endpoint,
    forcePathStyle: true, // the gateway serves path-style requests on its own host
    credentials,
  });
  const dynamodb = new DynamoDBClient({
    region: config.region,
    endpoint: config.dynamodbEndpoint,
    accountIdEndpointMode: "disabled", // the endpoint is the gateway, never an account endpoint
    credentials,
  });
  return new GameSession(config, first.identityId, s3, dynamodb);
}

export class GameSession {
  constructor(config, identityId, s3, dynamodb) {
    this.config = config;
    this.identityId = identityId;
    this.s3 = s3;
    this.dynamodb = dynamodb;
  }

  avatarKey(identityId = this.identityId) {
    return `${identityId}/avatar.png`;
  }

  async saveScore(score, player) {
    const playedAt = new Date().toISOString();
    await this.dynamodb.send(new PutItemCommand({
      TableName: this.config.table,
      Item: {
        identityId: { S: this.identityId },
        playedAt: { S: playedAt },
        score: { N: String(score) },
        player: { S: player },
      },
    }));
    return playedAt;
  }

  /** The newest scores of `identityId` (the player's own unless told otherwise). */
  async scores(identityId = this.identityId) {
    const result = await this.dynamodb.send(new QueryCommand({
      TableName: this.config.table,
      KeyConditionExpression: "identityId = :id",
      ExpressionAttributeValues: { ":id": { S: identityId } },
      ScanIndexForward: false,
      Limit: 10,
    }));
    return (result.Items ?? []).map((item) => ({
      playedAt: item.playedAt.S,
      score: Number(item.score.N),
    }));
  }

  async uploadAvatar(png, identityId = this.identityId) {
    await this.s3.send(new PutObjectCommand({
      Bucket: this.config.bucket,
      Key: this.avatarKey(identityId),
      Body: png,
      ContentType: "image/png",
    }));
  }

  /** The stored avatar as a Blob, or null when there is none yet. */
  async avatar(identityId = this.identityId) {
    try {
      const result = await this.s3.send(new GetObjectCommand({
        Bucket: this.config.bucket,
        Key: this.avatarKey(identityId),
      }));
      const bytes = await result.Body.transformToByteArray();
      return new Blob([bytes], { type: "image/png" });
    } catch (error) {
      if (error.name === "NoSuchKey") {
        return null;
      }
      throw error;
    }
  }
}

/** The encoded authorization message of a refusal (after "Encoded authorization failure message:"). */
export function encodedMessage(error) {
  const match = /Encoded authorization failure message: (\S+)/.exec(error?.message ?? "");
  return match ? match[1] : null;
}

/** The error code the service sent (S3 `<Code>`, DynamoDB `__type`'s last part). */
export function errorCode(error) {
  return error?.Code ?? error?.name ?? "Error";
}
