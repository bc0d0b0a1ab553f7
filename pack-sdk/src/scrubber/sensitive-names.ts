/**
 * Decides whether a field or variable name announces a secret. Used for JSON
 * keys (the security model's key-name rule), for `NAME=value` lines and for
 * `name: value` pairs found inside text.
 *
 * SECRET, TOKEN, PASSWORD, CREDENTIAL and PRIVATE match anywhere in the name,
 * as the security model says. KEY is the exception: as a bare substring it
 * hits `keyspace` (Redis INFO), `keys`, `monkey` and `keyboard`, so it must be
 * a word of its own (`api_key`, `apiKey`, `AccountKey`, `key`) or one of a few
 * glued compounds (`apikey`, `accesskey`), and names that also say what kind
 * of non-secret the key is (`publicKey`, `primary_key`, `keyId`, `keyName`,
 * `keyFile`, `cacheKey`) are left alone.
 */

const ANYWHERE =
  /secret|token|passw(?:or)?d|passphrase|passcode|credential|private|authorization|cookie|apikey|accesskey|signingkey|encryptionkey|masterkey|authkey|authentication_string|requirepass|masterauth/i;

/** Words that make a KEY-named field describe something that is not itself secret. */
const KEY_NOT_SECRET = new Set([
  'public',
  'pub',
  'primary',
  'foreign',
  'partition',
  'sort',
  'cache',
  'id',
  'ids',
  'name',
  'names',
  'file',
  'path',
  'count',
  'length',
  'len',
  'size',
  'type',
  'prefix',
  'pattern',
  'fingerprint',
  'space',
  'hash',
]);

/** Short words that are passwords when they stand alone as a word (`DB_PASS`, `MYSQL_PWD`). */
const SHORT_SECRET_WORDS = new Set(['pass', 'pwd', 'pw', 'psk', 'auth', 'pin', 'otp']);

/** Names that contain a secret word but are well-known non-secrets. */
const NOT_SECRET = new Set([
  'pwd',
  'oldpwd',
  'secretary',
  'secretaries',
  'tokenizer',
  'maxtokens',
  'tokencount',
  'numtokens',
  'totaltokens',
  // Settings that name a password method or a file, never a password (postgresql.conf, nginx).
  'passwordencryption',
  'authbasic',
  'authrequest',
  'authmethod',
  'authtype',
  'proxypass',
  'proxypassreverse',
  'fastcgipass',
  'uwsgipass',
  'scgipass',
  'grpcpass',
  'memcachedpass',
]);

/** Splits `dbPassword`, `AWS_SECRET_ACCESS_KEY`, `x-api-key` into lowercase words. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

// Names repeat (every log line has `user=`): decide each once. Bounded so hostile input cannot grow it.
const decided = new Map<string, boolean>();

export function isSensitiveName(name: string): boolean {
  const known = decided.get(name);
  if (known !== undefined) return known;
  const answer = decide(name);
  if (decided.size >= 8192) decided.clear();
  decided.set(name, answer);
  return answer;
}

function decide(name: string): boolean {
  if (name.length === 0 || name.length > 200) return false;
  if (NOT_SECRET.has(name.toLowerCase().replace(/[^a-z0-9]/g, ''))) return false;
  const words = nameWords(name);
  if (words.some((word) => SHORT_SECRET_WORDS.has(word))) return true;
  if (ANYWHERE.test(name)) return true;
  if (words.includes('key')) return !words.some((word) => KEY_NOT_SECRET.has(word));
  return false;
}
