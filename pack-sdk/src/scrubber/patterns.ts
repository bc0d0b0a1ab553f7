import {
  redactDirectives,
  redactHeaderDirectives,
  redactJavaProperties,
  redactKubernetesSecretYaml,
  redactNetrc,
  redactPasswordHashes,
  redactPgpass,
  redactQuotedPairs,
  redactRedisAcl,
  redactRedisAuth,
  redactSondeKeys,
  redactSqlPasswords,
  redactTabSeparated,
  redactToolFlags,
  redactXml,
} from './formats.js';
import { isSensitiveName } from './sensitive-names.js';

/**
 * Built-in redaction rules. Each rule takes a string and returns it with the
 * secrets it knows replaced, adding one to `tally.count` per secret. Rules run
 * in order, most specific shapes first, and never match the `[REDACTED]`
 * marker, so a later rule cannot redact (or count) the same secret twice.
 *
 * Every regex here is written to run in linear time: no nested unbounded
 * quantifiers, and each repetition is delimited by a character class the next
 * token cannot match (or is bounded), so a hostile 1 MiB string cannot stall
 * the agent. `scrubber.test.ts` times them on adversarial input.
 */

export const REDACTED = '[REDACTED]';

export interface Tally {
  count: number;
}

export type TextRule = (text: string, tally: Tally) => string;

/**
 * Words that make a number under a secret-looking name a setting rather than a secret
 * (`password_min_length=8`, `token_ttl=3600`, `secret_rotation_days=30`).
 */
const NUMERIC_SETTING =
  /(?:len(?:gth)?|min|max|count|size|ttl|expir|age|life|time|second|minute|hour|day|week|ms|version|bits|rounds|iteration|attempt|retr|limit|histor|reuse|interval|port|id|index|num|level|capacity|rate|bucket|burst|quota|window|threshold|percent|ratio|weight|priority|depth|workers|threads|concurren|pool|buffer|cache)/i;

/**
 * Values that look like a secret's slot but are not one: placeholders, flags, and small numbers where the
 * name says the number is a setting. Without a name (or with one like `password`, `pin`), digits are a secret.
 */
export function isSecretValue(raw: string, name?: string): boolean {
  // `(using password: YES)`: trailing punctuation is the sentence's, not the value's.
  const value = raw
    .trim()
    .replace(/^["']|["']$/g, '')
    .replace(/[).,]+$/, '');
  if (value.length === 0 || value.startsWith(REDACTED)) return false;
  if (/^\d{1,5}$/.test(value) && (name === undefined || NUMERIC_SETTING.test(name))) return false;
  if (/^(?:true|false|null|nil|none|undefined|yes|no|on|off|required|optional|\*+|x{3,}|\.{3}|%s)$/i.test(value)) return false;
  // References to another variable (`${DB_PASSWORD}`, `$TOKEN`) or a template placeholder (`<your-token>`).
  if (/^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$/.test(value) || /^<[^<>]{1,64}>$/.test(value) || /^\{\{[^{}]{1,64}\}\}$/.test(value)) return false;
  return true;
}

/**
 * PEM private key blocks (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted, PGP),
 * also JSON-escaped ones as in a GCP service-account file. Done by hand
 * rather than with `[\s\S]*?` so that many headers without a footer (output
 * cut at the cap) stay linear: a missing footer is looked for once per label.
 */
const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?)-----/g;
const PEM_BODY = /[A-Za-z0-9+/=\s\\:,.]*/y;

export const redactPemBlocks: TextRule = (text, tally) => {
  if (!text.includes('PRIVATE KEY')) return text;
  const missingFooter = new Set<string>();
  let out = '';
  let last = 0;
  PEM_BEGIN.lastIndex = 0;
  for (let match = PEM_BEGIN.exec(text); match; match = PEM_BEGIN.exec(text)) {
    const label = match[1];
    const bodyStart = match.index + match[0].length;
    const footer = `-----END ${label}-----`;
    let stop = -1;
    if (!missingFooter.has(label)) {
      const end = text.indexOf(footer, bodyStart);
      if (end >= 0) stop = end + footer.length;
      else missingFooter.add(label);
    }
    if (stop < 0) {
      // No footer (the output was cut): everything that can be key material goes.
      PEM_BODY.lastIndex = bodyStart;
      PEM_BODY.exec(text);
      stop = PEM_BODY.lastIndex;
    }
    out += `${text.slice(last, match.index)}-----BEGIN ${label}-----${REDACTED}-----END ${label}-----`;
    tally.count += 1;
    last = stop;
    PEM_BEGIN.lastIndex = stop;
  }
  return out + text.slice(last);
};

const AUTH_SCHEMES = /^(Bearer|Basic|Digest|Token|Negotiate|NTLM|Bot|ApiKey|SSWS|Splunk|GenieKey|AWS4-HMAC-SHA256|OAuth)\s+/i;
const HEADER =
  /\b((?:proxy-)?authorization|set-cookie|cookie|x-api-key|api-key|x-auth-token|x-amz-security-token|x-goog-api-key|private-token|x-vault-token)(["']?[ \t]*[:=][ \t]*["']?)([^\r\n"']*)/gi;

/** `Authorization: Basic dXNlcjpwYXNz` → `Authorization: Basic [REDACTED]`; cookies and API-key headers whole. */
export const redactHeaders: TextRule = (text, tally) =>
  text.replace(HEADER, (whole, name: string, sep: string, value: string) => {
    if (!isSecretValue(value)) return whole;
    const scheme = AUTH_SCHEMES.exec(value);
    if (scheme && /authorization/i.test(name)) {
      if (!isSecretValue(value.slice(scheme[0].length))) return whole;
      tally.count += 1;
      return `${name}${sep}${scheme[0]}${REDACTED}`;
    }
    tally.count += 1;
    return `${name}${sep}${REDACTED}`;
  });

/**
 * `scheme://user:password@host` keeps the user and host. The password may hold
 * an unescaped `@`, so it runs to the last `@` before the path.
 */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]{1,30}:\/\/)([^\s:@/?#"'<>]{0,256}):([^\s?#"'<>@]{1,512}(?:@[^\s?#"'<>@/]{1,512}(?=@))?)@/gi;
/** `https://<token>@host`: a long random user name with no password is the credential itself. */
const URL_TOKEN_USER = /\b([a-z][a-z0-9+.-]{1,30}:\/\/)([A-Za-z0-9_-]{20,256})@/gi;

export const redactUrlPasswords: TextRule = (text, tally) =>
  text
    .replace(URL_USERINFO, (whole, scheme: string, user: string, password: string) => {
      if (password.startsWith(REDACTED)) return whole;
      // `http://host:4873/@scope/pkg` is a port and a path, not a password (a password may hold `/` otherwise).
      if (password.includes('/') && /^\d{1,5}\//.test(password)) return whole;
      tally.count += 1;
      return `${scheme}${user}:${REDACTED}@`;
    })
    .replace(URL_TOKEN_USER, (whole, scheme: string, user: string) => {
      if (!(/[0-9]/.test(user) && /[A-Za-z]/.test(user))) return whole;
      tally.count += 1;
      return `${scheme}${REDACTED}@`;
    });

/** Query parameters that carry a credential on their own even with a harmless-looking name. */
const QUERY_SECRET_NAMES = new Set([
  'sig',
  'signature',
  'x-amz-signature',
  'x-goog-signature',
  'x-amz-credential',
  'auth',
  'code_verifier',
]);
const QUERY_PARAM = /([?&;])([A-Za-z0-9_.[\]-]{1,100})=([^&#\s"'<>]*)/g;

export const redactQueryParams: TextRule = (text, tally) =>
  text.replace(QUERY_PARAM, (whole, sep: string, name: string, value: string) => {
    if (!(isSensitiveName(name) || QUERY_SECRET_NAMES.has(name.toLowerCase())) || !isSecretValue(decodeSafe(value))) return whole;
    tally.count += 1;
    return `${sep}${name}=${REDACTED}`;
  });

function decodeSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** `export API_KEY=sk-abc` and `.env` lines: the whole rest of the line is the value. */
const ENV_LINE = /^([ \t]*(?:export[ \t]+)?)([A-Za-z_][A-Za-z0-9_.-]{0,100})([ \t]*=)(.*)$/gm;

export const redactEnvLines: TextRule = (text, tally) =>
  text.replace(ENV_LINE, (whole, lead: string, name: string, sep: string, value: string) => {
    if (!isSensitiveName(name) || !isSecretValue(value, name)) return whole;
    tally.count += 1;
    const space = /^[ \t]*/.exec(value)![0];
    return `${lead}${name}${sep}${space}${REDACTED}`;
  });

/** `--password hunter2`, `--api-key=abc` in process listings. */
const CLI_FLAG = /(^|\s)(--?[A-Za-z][A-Za-z0-9-]{0,60})(=|[ \t]+)(?!-)("[^"\n]{0,4096}"|'[^'\n]{0,4096}'|[^\s"']+)/g;

export const redactCliFlags: TextRule = (text, tally) =>
  text.replace(CLI_FLAG, (whole, lead: string, flag: string, sep: string, value: string) => {
    if (!isSensitiveName(flag.replace(/^-+/, '')) || !isSecretValue(value, flag)) return whole;
    tally.count += 1;
    return `${lead}${flag}${sep}${REDACTED}`;
  });

/**
 * `password=x`, `"client_secret": "x"`, `token: x`, `AccountKey=x;` anywhere in
 * text (JSON, YAML, logs, connection strings). Only the value is replaced.
 */
const KEY_VALUE =
  /(["']?)(?<![A-Za-z0-9_.-])([A-Za-z_][A-Za-z0-9_.-]{0,100})(["']?[ \t]*[:=][ \t]*)(?:"((?:[^"\\\n]|\\.){0,8192})"|'([^'\n]{0,8192})'|(?!\$\{)([^\s"'&;,<>{}[\]]+))/g;

/** Whether `offset` lies between a `<tag` and its `>` (looked for within 2 KiB). */
function insideXmlTag(text: string, offset: number): boolean {
  // Only the 2 KiB before the match are looked at: `id = 1` on every line of a log must stay cheap.
  const from = Math.max(0, offset - 2048);
  const before = text.slice(from, offset);
  const open = before.lastIndexOf('<');
  return open >= 0 && /[A-Za-z_]/.test(before[open + 1] ?? '') && !before.includes('>', open);
}

export const redactKeyValues: TextRule = (text, tally) => {
  const hasTag = text.includes('<');
  return text.replace(
    KEY_VALUE,
    (
      whole,
      open: string,
      name: string,
      sep: string,
      dq: string | undefined,
      sq: string | undefined,
      bare: string | undefined,
      offset: number,
    ) => {
      const value = dq ?? sq ?? bare ?? '';
      if (/^(?:(?:proxy-)?authorization|cookie|set-cookie)$/i.test(name)) return whole;
      // Inside an XML tag, `key="…"`, `name="…"` and `id="…"` name a setting; its value is another attribute.
      if (hasTag && /^(?:key|name|id)$/i.test(name) && insideXmlTag(text, offset)) return whole;
      const quote = dq !== undefined ? '"' : sq !== undefined ? "'" : '';
      if (!isSensitiveName(name)) {
        // A quoted value can hold pairs of its own: `primary_conninfo = 'host=db password=x'`.
        if (quote && (value.includes('=') || value.includes(':'))) {
          const inner = redactKeyValues(value, tally);
          return inner === value ? whole : `${open}${name}${sep}${quote}${inner}${quote}`;
        }
        return whole;
      }
      if (!isSecretValue(value, name)) return whole;
      tally.count += 1;
      return `${open}${name}${sep}${quote}${REDACTED}${quote}`;
    },
  );
};

/** `Bearer <token>` outside a header. Prose such as "Bearer authentication" is left: a token has a digit or symbol, or is long. */
const BEARER = /\b(Bearer)(\s+)(?=[A-Za-z0-9._~+/-]{0,4096}[0-9._~+/-]|[A-Za-z0-9._~+/-]{20})[A-Za-z0-9._~+/-]{8,4096}=*/gi;

export const redactBearer: TextRule = (text, tally) =>
  text.replace(BEARER, (_whole, word: string, space: string) => {
    tally.count += 1;
    return `${word}${space}${REDACTED}`;
  });

/** Credentials recognisable by their own shape, wherever they appear. */
const TOKEN_SHAPES: RegExp[] = [
  // JSON Web Tokens: base64url JSON header `{"` = `eyJ`, then payload and (possibly empty) signature.
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g,
  // AWS access key ids (long-lived AKIA, temporary ASIA).
  /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g,
  // GitHub tokens: classic and OAuth/app/refresh, fine-grained.
  /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,255}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{40,255}\b/g,
  // GitLab personal/deploy tokens.
  /\b(?:glpat|gldt|glrt)-[A-Za-z0-9_-]{20,}/g,
  // Slack bot/user/app tokens and incoming webhooks.
  /\bxox[abposre]-[A-Za-z0-9-]{10,}/g,
  /\bxapp-\d-[A-Za-z0-9-]{10,}/g,
  /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_-]{10,}/g,
  // npm access tokens.
  /\bnpm_[A-Za-z0-9]{36}\b/g,
  // Stripe secret and restricted keys, webhook secrets.
  /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}\b/g,
  /\bwhsec_[A-Za-z0-9+/=]{20,}/g,
  // Google API keys, OAuth client secrets, access and refresh tokens.
  /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g,
  /\bGOCSPX-[A-Za-z0-9_-]{20,}/g,
  /\bya29\.[0-9A-Za-z_-]{20,}/g,
  /\b1\/\/0[0-9A-Za-z_-]{30,}/g,
  // OpenAI / Anthropic style keys.
  /\bsk-(?:ant-|proj-|svcacct-)?[A-Za-z0-9_-]{20,}/g,
  // SendGrid, Hugging Face, DigitalOcean, Shopify, PyPI.
  /\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/g,
  /\bhf_[A-Za-z]{30,}\b/g,
  /\bdo[pro]_v1_[a-f0-9]{64}\b/g,
  /\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b/g,
  /\bpypi-[A-Za-z0-9_-]{50,}/g,
];

/** A 40-character base64 word mixing upper, lower and digits: the shape of an AWS secret access key. */
const AWS_SECRET_SHAPE = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;

/** One pass for all shapes: a string is scanned once, not once per token kind. */
const ANY_TOKEN_SHAPE = new RegExp(TOKEN_SHAPES.map((shape) => `(?:${shape.source})`).join('|'), 'g');

export const redactTokenShapes: TextRule = (text, tally) => {
  let out = text.replace(ANY_TOKEN_SHAPE, () => {
    tally.count += 1;
    return REDACTED;
  });
  if (out.length < 40) return out;
  out = out.replace(AWS_SECRET_SHAPE, (word) => {
    if (!(/[A-Z]/.test(word) && /[a-z]/.test(word) && /[0-9]/.test(word))) return word;
    tally.count += 1;
    return REDACTED;
  });
  return out;
};

/** Cheap tests that let most strings skip a rule whose regex could never match them. */
const HEADER_HINT = /authoriz|cookie|api-key|auth-token|security-token|private-token|vault-token/i;
const BEARER_HINT = /bearer/i;

const SQL_HINT = /password|identified/i;
const REDIS_AUTH_HINT = /\bauth/i;
const TOOL_HINT =
  /mysql|mariadb|redis-cli|keydb-cli|valkey-cli|sshpass|curl|wget|\bhttp\b|\bxh\b|login|sqlcmd|bcp|mongo|rabbitmqctl|lftp|ldap|smbclient|pass:|htpasswd/i;
const PASSWORD_HASH_HINT = /\$|md5|\*[0-9A-F]/;

/** Order matters: whole blocks and headers before the generic `name=value` rule and the token shapes. */
export const BUILT_IN_RULES: readonly TextRule[] = [
  redactPemBlocks,
  (text, tally) => (text.includes('kind:') ? redactKubernetesSecretYaml(text, tally) : text),
  (text, tally) => (SQL_HINT.test(text) ? redactSqlPasswords(text, tally) : text),
  (text, tally) => (REDIS_AUTH_HINT.test(text) ? redactRedisAuth(text, tally) : text),
  (text, tally) => (text.includes('" "') ? redactQuotedPairs(text, tally) : text),
  (text, tally) => (/header/i.test(text) ? redactHeaderDirectives(text, tally) : text),
  (text, tally) => (TOOL_HINT.test(text) ? redactToolFlags(text, tally) : text),
  (text, tally) => (text.includes('-D') ? redactJavaProperties(text, tally) : text),
  (text, tally) => (text.includes('</') || text.includes('/>') ? redactXml(text, tally) : text),
  (text, tally) => (text.includes('\t') ? redactTabSeparated(text, tally) : text),
  (text, tally) => (text.includes(' ') || text.includes('\t') ? redactDirectives(text, tally) : text),
  (text, tally) => (/\b(?:user|ACL)\b/i.test(text) ? redactRedisAcl(text, tally) : text),
  (text, tally) => (text.includes(':') ? redactPgpass(text, tally) : text),
  (text, tally) => (/password/i.test(text) ? redactNetrc(text, tally) : text),
  (text, tally) => (PASSWORD_HASH_HINT.test(text) ? redactPasswordHashes(text, tally) : text),
  (text, tally) => (HEADER_HINT.test(text) ? redactHeaders(text, tally) : text),
  (text, tally) => (text.includes('://') ? redactUrlPasswords(text, tally) : text),
  (text, tally) => (text.includes('=') && /[?&;]/.test(text) ? redactQueryParams(text, tally) : text),
  (text, tally) => (text.includes('=') ? redactEnvLines(text, tally) : text),
  (text, tally) => (text.includes('-') ? redactCliFlags(text, tally) : text),
  (text, tally) => (text.includes('=') || text.includes(':') ? redactKeyValues(text, tally) : text),
  (text, tally) => (BEARER_HINT.test(text) ? redactBearer(text, tally) : text),
  (text, tally) => (text.length >= 8 ? redactTokenShapes(text, tally) : text),
  (text, tally) => (text.length >= 32 ? redactSondeKeys(text, tally) : text),
];
