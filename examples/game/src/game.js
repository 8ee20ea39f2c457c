// Tap Ten: the page's behaviour. See index.html for the element ids and config.js for the
// configuration; aws.js holds everything that talks to webfed.

import { canvasPng, drawAvatar } from "./avatar.js";
import { encodedMessage, errorCode, openSession } from "./aws.js";
import { loadConfig } from "./config.js";
import { beginSignIn, completeSignIn, readClaims } from "./signin.js";

const TAPS = 10;
const LOGIN = "webfed-game:login"; // the ID token of the signed-in player (sessionStorage)

const $ = (id) => document.getElementById(id);

const state = {
  config: null,
  session: null,
  player: null,
  round: { taps: 0, startedAt: 0, score: null },
  lastEncoded: null,
  lastError: null,
};

function status(text, kind = "ok") {
  const element = $("status");
  element.textContent = text;
  element.dataset.state = kind;
}

function show(...ids) {
  for (const id of ids) {
    $(id).hidden = false;
  }
}

function hide(...ids) {
  for (const id of ids) {
    $(id).hidden = true;
  }
}

/** Runs `action` with the status line saying what happens; failures end up on the page. */
async function step(busyText, action) {
  status(busyText, "busy");
  try {
    return await action();
  } catch (error) {
    state.lastError = error;
    status(`${errorCode(error)}: ${error.message}`, "error");
    console.error(error);
    return undefined;
  }
}

async function start() {
  state.config = await loadConfig();
  const oidc = state.config.oidc;
  if (!oidc) {
    $("sign-in-button").disabled = true;
  }
  let returned = null;
  let problem = null;
  try {
    returned = oidc ? await completeSignIn(oidc) : null;
  } catch (error) {
    problem = error; // refused or cancelled at the provider, or a bad answer: sign in again
  }
  const idToken = returned?.idToken ?? sessionStorage.getItem(LOGIN);
  if (idToken && readClaims(idToken).exp * 1000 > Date.now()) {
    sessionStorage.setItem(LOGIN, idToken);
    await enter({ key: oidc.loginKey, idToken });
    return;
  }
  sessionStorage.removeItem(LOGIN);
  show("signin-panel");
  if (problem) {
    status(problem.message, "error");
  } else {
    status("Sign in or play as a guest.");
  }
}

function onCredentials({ identityId, expiration, fetches }) {
  $("credentials-fetches").textContent = String(fetches);
  $("credentials-expiration").textContent = expiration ? new Date(expiration).toISOString() : "";
  $("identity-id").textContent = identityId ?? "";
}

/** Takes credentials for `login` (null: a guest) and shows the game. */
async function enter(login) {
  const claims = login ? readClaims(login.idToken) : null;
  state.player = claims ? claims.preferred_username ?? claims.name ?? claims.sub : "guest";
  const session = await step("Getting credentials from the identity pool…", () =>
    openSession(state.config, login, onCredentials));
  if (!session) {
    show("signin-panel");
    return;
  }
  state.session = session;
  hide("signin-panel");
  $("player-name").textContent = state.player;
  $("identity-id").textContent = session.identityId;
  $("role-kind").textContent = login ? "authenticated" : "guest";
  drawAvatar($("avatar-canvas"), state.player, session.identityId);
  show("player-panel", "game-panel", "avatar-panel", "denial-panel");
  await refreshScores();
  await refreshAvatar();
  if ($("status").dataset.state !== "error") {
    status(`Playing as ${state.player}. Tap the target ten times!`);
  }
}

function moveTarget() {
  const target = $("click-target");
  const arena = target.parentElement;
  const x = Math.random() * Math.max(arena.clientWidth - target.offsetWidth, 1);
  const y = Math.random() * Math.max(arena.clientHeight - target.offsetHeight, 1);
  target.style.left = `${Math.round(x)}px`;
  target.style.top = `${Math.round(y)}px`;
}

function tap() {
  const round = state.round;
  if (round.taps === 0) {
    round.startedAt = performance.now();
    round.score = null;
    $("game-state").textContent = "playing";
    $("save-score").disabled = true;
  }
  round.taps += 1;
  $("taps-left").textContent = String(TAPS - round.taps);
  if (round.taps < TAPS) {
    moveTarget();
    return;
  }
  // Ten taps per second or faster is 1000 points; slower rounds score proportionally less.
  const seconds = Math.max((performance.now() - round.startedAt) / 1000, 0.001);
  round.score = Math.max(1, Math.round(1000 * Math.min(1, TAPS / 10 / seconds)));
  round.taps = 0;
  $("game-state").textContent = "finished";
  $("game-score").textContent = String(round.score);
  $("taps-left").textContent = String(TAPS);
  $("save-score").disabled = false;
  status(`Round over: ${round.score} points. Save it?`);
}

async function saveScore() {
  const score = state.round.score;
  if (score === null) {
    return;
  }
  const saved = await step("Saving the score (DynamoDB PutItem)…", () =>
    state.session.saveScore(score, state.player));
  if (saved) {
    $("save-score").disabled = true;
    status(`Score ${score} saved at ${saved}.`);
    await refreshScores();
  }
}

async function refreshScores() {
  const scores = await step("Reading your scores (DynamoDB Query)…", () =>
    state.session.scores());
  if (!scores) {
    return;
  }
  const body = $("scores-list");
  body.replaceChildren(...scores.map(({ playedAt, score }) => {
    const row = document.createElement("tr");
    row.dataset.score = String(score);
    row.dataset.playedAt = playedAt;
    const when = document.createElement("td");
    when.textContent = playedAt;
    const points = document.createElement("td");
    points.textContent = String(score);
    row.append(when, points);
    return row;
  }));
  status(`${scores.length} score(s) on record.`);
}

async function uploadAvatar() {
  const file = $("avatar-file").files?.[0];
  const png = file ? new Uint8Array(await file.arrayBuffer()) : await canvasPng($("avatar-canvas"));
  const done = await step("Uploading the avatar (S3 PutObject)…", async () => {
    await state.session.uploadAvatar(png);
    return true;
  });
  if (done) {
    status(`Avatar stored at s3://${state.config.bucket}/${state.session.avatarKey()}.`);
    await refreshAvatar();
  } else if (encodedMessage(state.lastError)) {
    showDenial(state.lastError); // a guest's upload: refused by the guest role
  }
}

async function refreshAvatar() {
  const image = $("avatar-image");
  try {
    const blob = await state.session.avatar();
    if (image.src.startsWith("blob:")) {
      URL.revokeObjectURL(image.src);
    }
    if (blob) {
      image.src = URL.createObjectURL(blob);
      image.alt = "the avatar stored in S3";
      image.dataset.loaded = "true";
      $("avatar-caption").textContent = "stored in S3";
    }
  } catch (error) {
    // Guests may not read avatars at all: keep the placeholder and say why.
    image.dataset.loaded = "false";
    $("avatar-caption").textContent = `${errorCode(error)}: not with this role`;
  }
}

function showDenial(error) {
  if (!error) {
    return;
  }
  state.lastEncoded = encodedMessage(error);
  $("denial-code").textContent = errorCode(error);
  $("denial-message").textContent = error.message;
  $("decoded-reason").textContent = "";
  $("decoded-summary").textContent = "";
  $("decode-button").disabled = !(state.lastEncoded && state.config.adminDecodeUrl);
}

/** Runs a call the policies should refuse and shows the refusal. */
async function attempt(text, action) {
  status(text, "busy");
  try {
    await action();
    status("Unexpectedly allowed!", "error");
  } catch (error) {
    showDenial(error);
    status(`Refused: ${errorCode(error)}.`, "ok");
  }
}

function otherIdentity() {
  return $("other-identity").value.trim();
}

async function decode() {
  const response = await fetch(state.config.adminDecodeUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ encodedMessage: state.lastEncoded }),
  });
  const body = await response.json();
  if (!response.ok) {
    status(`Decoding failed: ${body.error ?? response.status}`, "error");
    return;
  }
  const decoded = body.decodedMessage;
  $("decoded-summary").textContent = `Why: ${decoded.reason ?? "(no reason given)"}`;
  $("decoded-reason").textContent = JSON.stringify(decoded, null, 2);
  status("Decoded by the administrator's helper on the demo server.");
}

function signOut() {
  sessionStorage.removeItem(LOGIN);
  // The SDK caches a guest's identity id in localStorage; a new guest gets a new identity.
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith("aws:cognito-identity")) {
      localStorage.removeItem(key);
    }
  }
  location.assign(location.pathname);
}

function wire() {
  $("sign-in-button").addEventListener("click", () =>
    step("Going to the sign-in page…", () => beginSignIn(state.config.oidc)));
  $("guest-button").addEventListener("click", () => enter(null));
  $("click-target").addEventListener("click", tap);
  $("save-score").addEventListener("click", saveScore);
  $("upload-avatar").addEventListener("click", uploadAvatar);
  $("try-other-scores").addEventListener("click", () =>
    attempt("Reading another player's scores…", () => state.session.scores(otherIdentity())));
  $("try-other-avatar").addEventListener("click", () =>
    attempt("Reading another player's avatar…", () => state.session.avatar(otherIdentity())));
  $("try-write-outside").addEventListener("click", () =>
    attempt("Writing under another player's prefix…", async () =>
      state.session.uploadAvatar(await canvasPng($("avatar-canvas")), otherIdentity())));
  $("decode-button").addEventListener("click", () => step("Decoding…", decode));
  $("sign-out").addEventListener("click", signOut);
}

wire();
start().catch((error) => status(`Could not start: ${error.message}`, "error"));
