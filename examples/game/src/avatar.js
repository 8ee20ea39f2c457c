// A generated avatar: the player's initials on a colour derived from the identity id.

function hue(text) {
  let hash = 0;
  for (const char of text) {
    hash = (hash * 31 + char.codePointAt(0)) % 360;
  }
  return hash;
}

/** Draws the avatar of `name` / `identityId` on `canvas`. */
export function drawAvatar(canvas, name, identityId) {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  const base = hue(identityId);
  const gradient = context.createLinearGradient(0, 0, width, height);
  gradient.addColorStop(0, `hsl(${base} 70% 55%)`);
  gradient.addColorStop(1, `hsl(${(base + 50) % 360} 70% 40%)`);
  context.fillStyle = gradient;
  context.fillRect(0, 0, width, height);
  const initials = (name || "?").trim().slice(0, 2).toUpperCase();
  context.fillStyle = "#ffffff";
  context.font = `bold ${Math.round(height * 0.42)}px system-ui, sans-serif`;
  context.textAlign = "center";
  context.textBaseline = "middle";
  context.fillText(initials, width / 2, height / 2 + height * 0.03);
}

/** The canvas as PNG bytes. */
export async function canvasPng(canvas) {
  const blob = await new Promise((resolve, reject) => {
    canvas.toBlob((value) => (value ? resolve(value) : reject(new Error("no PNG"))), "image/png");
  });
  return new Uint8Array(await blob.arrayBuffer());
}
