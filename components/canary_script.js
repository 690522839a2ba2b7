// The synthetic check Floyo's release gate waits for (components/synthetic_check.py packages it).
// Runs in a CloudWatch Synthetics Node.js runtime; each step is a separate pass/fail in the run report.
const synthetics = require('Synthetics');
const log = require('SyntheticsLogger');
const crypto = require('crypto');
const https = require('https');

const host = process.env.API_HOST;

// GET `path` on the API through Cloudflare; resolve with the status (101 when a WebSocket upgrades).
function status(path, headers) {
  return new Promise((resolve, reject) => {
    const request = https.request(
      { host, path, method: 'GET', timeout: 10000, headers: { 'User-Agent': 'floyo-synthetics', ...headers } },
      (response) => { response.resume(); resolve(response.statusCode); },
    );
    request.on('upgrade', (response, socket) => { socket.destroy(); resolve(response.statusCode); });
    request.on('timeout', () => request.destroy(new Error(`no answer from ${path} within 10 s`)));
    request.on('error', reject);
    request.end();
  });
}

async function expectStatus(step, path, headers, ok) {
  await synthetics.executeStep(step, async () => {
    const code = await status(path, headers);
    log.info(`${step}: GET https://${host}${path} -> ${code}`);
    if (!ok(code)) {
      throw new Error(`${step}: https://${host}${path} answered ${code}`);
    }
  });
}

exports.handler = async () => {
  await expectStatus('health', process.env.HEALTH_PATH, {}, (code) => code === 200);
  await expectStatus('api', process.env.API_PATH, {}, (code) => code >= 200 && code < 300);
  await expectStatus('websocket', process.env.WEBSOCKET_PATH, {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
  }, (code) => code === 101);
};
