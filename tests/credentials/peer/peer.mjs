// An independent SD-JWT VC and Token Status List peer for Saldo's tests: the OpenWallet
// Foundation's sd-jwt-js (npm @sd-jwt/*) and Node's own crypto, no Saldo code. It reads one JSON
// request on stdin and writes one JSON answer on stdout: {"ok": true, ...} or {"ok": false, "error"}.
//
//   verify        {presentation, anchor_pem, audience?, nonce?, now, status_lists?: {uri: token}}
//   issue         {issuer_jwk, x5c, claims, disclosable, holder_jwk, iat, exp}
//   present       {credential, holder_jwk, disclose, audience, nonce, iat}
//   status        {token, anchor_pem, indexes, now}
//   status_issue  {issuer_jwk, x5c, uri, size, bits, entries: [[idx, value]], iat, exp, ttl}
//   wallet        {offer_uri, tx_code}: the OpenWallet Foundation's OpenID4VCI client (oid4vc-ts)
//                 collects the offered credential, bound to a key of its own
//   answer        {request_url, credential, holder_jwk} or {request_url, credentials: {query id:
//                 {credential, holder_jwk}}}: oid4vc-ts's OpenID4VP client reads the verifier's
//                 request, sd-jwt-js presents the claims each of its DCQL queries asks for, and the
//                 client posts the answer (direct_post)
import { X509Certificate, createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { clientAuthenticationAnonymous, setGlobalConfig } from '@openid4vc/oauth2';
import { Openid4vciClient } from '@openid4vc/openid4vci';
import { Openid4vpClient } from '@openid4vc/openid4vp';
import { readFileSync } from 'node:fs';
import { ES256, digest, generateSalt } from '@sd-jwt/crypto-nodejs';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { StatusList, createHeaderAndPayload, getListFromStatusListJWT } from '@sd-jwt/jwt-status-list';

const b64urlJson = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
const b64url = (text) => Buffer.from(text, 'utf8').toString('base64url');

// The x5c chain in a JWS header must lead to the anchor, each certificate valid at `now`;
// the leaf's key then checks the signature.
function x5cVerifier(anchorPem, now) {
  const anchor = new X509Certificate(anchorPem);
  return async (data, signature) => {
    const header = b64urlJson(data.split('.')[0]);
    if (header.alg !== 'ES256') throw new Error(`alg ${header.alg} is not ES256`);
    const chain = (header.x5c || []).map((der) => new X509Certificate(Buffer.from(der, 'base64')));
    if (chain.length === 0) throw new Error('no x5c');
    const all = [...chain, anchor];
    for (let i = 0; i < chain.length; i++) {
      const cert = chain[i];
      const issuer = all[i + 1];
      if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) throw new Error('x5c does not chain to the anchor');
      const from = Date.parse(cert.validFrom) / 1000, to = Date.parse(cert.validTo) / 1000;
      if (now < from || now > to) throw new Error('a certificate in x5c is not valid now');
    }
    const jwk = chain[0].publicKey.export({ format: 'jwk' });
    return (await ES256.getVerifier(jwk))(data, signature);
  };
}

const kbVerifier = async (data, signature, payload) => {
  if (!payload.cnf || !payload.cnf.jwk) throw new Error('no cnf.jwk');
  return (await ES256.getVerifier(payload.cnf.jwk))(data, signature);
};

async function verify(req) {
  const statusLists = req.status_lists || {};
  const verifier = x5cVerifier(req.anchor_pem, req.now);
  const vc = new SDJwtVcInstance({
    hasher: digest, hashAlg: 'sha-256', verifier, kbVerifier,
    statusListFetcher: async (uri) => {
      if (uri in statusLists) return statusLists[uri];
      const response = await fetch(uri, { headers: { Accept: 'application/statuslist+jwt' } });
      if (!response.ok) throw new Error(`status list ${uri}: HTTP ${response.status}`);
      if (!(response.headers.get('content-type') || '').includes('application/statuslist+jwt')) throw new Error('status list: wrong content type');
      return response.text();
    },
    statusValidator: async (status) => { if (status !== 0) throw new Error(`status ${status}: not valid`); },
  });
  // a few seconds for clocks, as verifiers allow (Saldo's own: 60 s): a status list fetched during
  // the check is signed then, a second past the moment the check began
  const options = { currentDate: req.now, skewSeconds: 5 };
  if (req.nonce) options.keyBindingNonce = req.nonce;
  const result = await vc.verify(req.presentation, options);
  if (result.header.typ !== 'dc+sd-jwt') throw new Error(`typ ${result.header.typ}`);
  if (req.audience && (!result.kb || result.kb.payload.aud !== req.audience)) throw new Error('wrong audience');
  return { claims: result.payload, header: result.header, kb: result.kb ? result.kb.payload : null };
}

async function issue(req) {
  const vc = new SDJwtVcInstance({
    hasher: digest, hashAlg: 'sha-256', saltGenerator: generateSalt,
    signer: await ES256.getSigner(req.issuer_jwk), signAlg: 'ES256',
  });
  const payload = { ...req.claims, iat: req.iat, exp: req.exp, cnf: { jwk: req.holder_jwk } };
  const credential = await vc.issue(payload, { _sd: req.disclosable }, { header: { x5c: req.x5c } });
  return { credential };
}

async function present(req) {
  const vc = new SDJwtVcInstance({
    hasher: digest, hashAlg: 'sha-256',
    kbSigner: await ES256.getSigner(req.holder_jwk), kbSignAlg: 'ES256',
  });
  const frame = Object.fromEntries(req.disclose.map((name) => [name, true]));
  const presentation = await vc.present(req.credential, frame, {
    kb: { payload: { iat: req.iat, aud: req.audience, nonce: req.nonce } },
  });
  return { presentation };
}

async function status(req) {
  const [headerPart, payloadPart, signature] = req.token.split('.');
  const header = b64urlJson(headerPart);
  if (header.typ !== 'statuslist+jwt') throw new Error(`typ ${header.typ}`);
  const good = await x5cVerifier(req.anchor_pem, req.now)(`${headerPart}.${payloadPart}`, signature);
  if (!good) throw new Error('the status list signature does not verify');
  const payload = b64urlJson(payloadPart);
  if (payload.exp && payload.exp < req.now) throw new Error('the status list has expired');
  const list = getListFromStatusListJWT(req.token);
  return { sub: payload.sub, ttl: payload.ttl, bits: list.getBitsPerStatus(), statuses: req.indexes.map((i) => list.getStatus(i)) };
}

async function statusIssue(req) {
  const values = new Array(req.size).fill(0);
  for (const [idx, value] of req.entries) values[idx] = value;
  const list = new StatusList(values, req.bits);
  const { header, payload } = createHeaderAndPayload(
    list,
    { iss: req.uri, sub: req.uri, iat: req.iat, exp: req.exp, ttl: req.ttl },
    { alg: 'ES256', typ: 'statuslist+jwt', x5c: req.x5c },
  );
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = await (await ES256.getSigner(req.issuer_jwk))(signingInput);
  return { token: `${signingInput}.${signature}` };
}

async function wallet(req) {
  setGlobalConfig({ allowInsecureUrls: true }); // the test's Saldo listens on http://127.0.0.1
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = publicKey.export({ format: 'jwk' });
  const callbacks = {
    fetch,
    clientAuthentication: clientAuthenticationAnonymous(), // pre-authorised code: no client of its own
    hash: (data, alg) => new Uint8Array(createHash(alg.replace('-', '')).update(data).digest()),
    generateRandom: (length) => new Uint8Array(randomBytes(length)),
    signJwt: async (signer, { header, payload }) => {
      const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
      const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
      return { jwt: `${input}.${signature.toString('base64url')}`, signerJwk: publicJwk };
    },
  };
  const client = new Openid4vciClient({ callbacks });
  const offer = await client.resolveCredentialOffer(req.offer_uri);
  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer: offer, issuerMetadata, txCode: req.tx_code,
  });
  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata });
  const credentialConfigurationId = offer.credential_configuration_ids[0];
  const proof = await client.createCredentialRequestJwtProof({
    issuerMetadata, credentialConfigurationId, nonce,
    signer: { method: 'jwk', alg: 'ES256', publicJwk },
  });
  const answer = await client.retrieveCredentials({
    issuerMetadata, credentialConfigurationId, accessToken: accessTokenResponse.access_token,
    proofs: { jwt: [proof.jwt] },
  });
  const credential = answer.credentialResponse.credentials[0].credential;
  return { credential, holder_jwk: privateKey.export({ format: 'jwk' }) };
}

async function answer(req) {
  setGlobalConfig({ allowInsecureUrls: true });
  const hash = (data, alg) => new Uint8Array(createHash(alg.replace('-', '')).update(data).digest());
  const client = new Openid4vpClient({ callbacks: { fetch, hash } });
  const parsed = client.parseOpenid4vpAuthorizationRequest({ authorizationRequest: req.request_url });
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: parsed.params });
  const request = resolved.authorizationRequestPayload;
  // what the wallet holds for each query of the DCQL request: {id: {credential, holder_jwk}}, or
  // one credential for the first query
  const held = req.credentials || { [resolved.dcql.query.credentials[0].id]: { credential: req.credential, holder_jwk: req.holder_jwk } };
  const vpToken = {};
  const asked = {};
  for (const query of resolved.dcql.query.credentials) {
    if (!(query.id in held)) throw new Error(`the wallet holds nothing for query ${query.id}`);
    const frame = Object.fromEntries(query.claims.map((claim) => [claim.path[0], true]));
    const vc = new SDJwtVcInstance({
      hasher: digest, hashAlg: 'sha-256',
      kbSigner: await ES256.getSigner(held[query.id].holder_jwk), kbSignAlg: 'ES256',
    });
    vpToken[query.id] = [await vc.present(held[query.id].credential, frame, {
      kb: { payload: { iat: Math.floor(Date.now() / 1000), aud: request.client_id, nonce: request.nonce } },
    })];
    asked[query.id] = Object.keys(frame);
  }
  const response = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: { vp_token: vpToken },
  });
  const submitted = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: response.authorizationResponsePayload,
  });
  const first = resolved.dcql.query.credentials[0].id;
  return {
    client_id: request.client_id, client_prefix: resolved.client.prefix, query_id: first,
    query_ids: Object.keys(vpToken), asked: asked[first], asked_by_query: asked, http_status: submitted.response.status,
  };
}

const commands = { verify, issue, present, status, status_issue: statusIssue, wallet, answer };
const request = JSON.parse(readFileSync(0, 'utf8'));
try {
  const answer = await commands[request.command](request);
  process.stdout.write(JSON.stringify({ ok: true, ...answer }));
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(error && error.message ? error.message : error) }));
}
