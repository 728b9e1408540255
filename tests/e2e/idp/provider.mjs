// An independent OpenID provider for Saldo's browser tests: the npm package oidc-provider, configured
// like a Swedish eID broker (personal identity number claim, eIDAS levels of assurance as acr values).
// Its login page is its own, not Saldo's: the test types a personal identity number and picks a level.
//
//   node provider.mjs <port> <redirect_uri>        prints "ready <issuer>" when it listens
import http from 'node:http';
import Provider from 'oidc-provider';

const [port, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const PNR = 'https://id.oidc.se/claim/personalIdentityNumber';
const LOA = {
  low: 'http://id.elegnamnden.se/loa/1.0/loa2',
  substantial: 'http://id.elegnamnden.se/loa/1.0/loa3',
  high: 'http://id.elegnamnden.se/loa/1.0/loa4',
};
const names = new Map();

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'saldo',
    client_secret: 'saldo-test-secret',
    redirect_uris: [redirectUri],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  acrValues: Object.values(LOA),
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name'],
    'https://id.oidc.se/scope/naturalPersonNumber': [PNR],
  },
  scopes: ['openid', 'profile', 'https://id.oidc.se/scope/naturalPersonNumber'],
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['saldo-e2e-idp-cookie-key'] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, [PNR]: id, name: names.get(id) ?? 'Test Person' };
      },
    };
  },
});

function page(uid, prompt) {
  const levels = Object.keys(LOA).map((k) => `<option value="${k}"${k === 'substantial' ? ' selected' : ''}>${k}</option>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test eID</title></head><body>
<main><h1>Test eID provider (oidc-provider)</h1><p>Prompt: ${prompt}</p>
<form method="post" action="/interaction/${uid}">
<label for="pnr">Personal identity number</label> <input id="pnr" name="pnr" required>
<label for="name">Name</label> <input id="name" name="name" value="Test Person">
<label for="loa">Level of assurance</label> <select id="loa" name="loa">${levels}</select>
<button type="submit">Identify</button></form></main></body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const match = req.url.match(/^\/interaction\/([^/?]+)/);
  if (!match) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET' && details.prompt.name === 'login') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(page(details.uid, details.prompt.name));
    }
    if (details.prompt.name === 'login') {
      const form = await readForm(req);
      names.set(form.get('pnr'), form.get('name'));
      return provider.interactionFinished(req, res, {
        login: { accountId: form.get('pnr'), acr: LOA[form.get('loa')] ?? LOA.low },
      }, { mergeWithLastSubmission: false });
    }
    // consent: the relying party is the authority's own service, granted what it asked
    const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    if (details.prompt.details.missingOIDCScope) grant.addOIDCScope(details.prompt.details.missingOIDCScope.join(' '));
    if (details.prompt.details.missingOIDCClaims) grant.addOIDCClaims(details.prompt.details.missingOIDCClaims);
    return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  } catch (err) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(String(err));
  }
});
server.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
