import { generateKeyPairSync } from 'node:crypto';

/**
 * Scrubber corpus: realistic secrets as they show up in probe output (env
 * dumps, config files, logs, process listings, HTTP traces, JSON), and
 * innocent strings that look like them. Values are generated, never real.
 */

let state = 0x2545f491;
/** Deterministic pseudo-random string so the corpus is stable between runs. */
function rand(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out += alphabet[(state >>> 0) % alphabet.length];
  }
  return out;
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_NUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const B64 = `${ALNUM}+/`;
const B64URL = `${ALNUM}-_`;
const HEX = '0123456789abcdef';

const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
const pkcs8Pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const edPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const rsaBody = rsaPem.split('\n')[3];
const pkcs8Body = pkcs8Pem.split('\n')[1];
const edBody = edPem.split('\n')[1];
const opensshBody = rand(B64, 70);
const jwt = `eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6ImFkbWluIiwiaWF0IjoxNzAwMDAwMDAwfQ.${rand(B64URL, 86)}`;
const awsSecret = `${rand(ALNUM, 12)}/${rand(ALNUM, 14)}+${rand(ALNUM, 12)}`;

export interface SecretCase {
  label: string;
  text: string;
  /** Every one of these must be gone from the output. */
  secrets: string[];
  /** Context that must survive (user and host of a connection string, a variable name). */
  keep?: string[];
}

function secret(label: string, text: string, secrets: string | string[], keep?: string[]): SecretCase {
  return { label, text, secrets: Array.isArray(secrets) ? secrets : [secrets], keep };
}

const s = {
  apiKey: `sk-${rand(ALNUM, 32)}`,
  dbPass: `Pg!${rand(ALNUM, 14)}`,
  mysqlPass: rand(ALNUM, 18),
  redisPass: rand(ALNUM, 24),
  mongoPass: `m0ngo${rand(ALNUM, 10)}`,
  amqpPass: rand(ALNUM, 16),
  bearer: rand(B64URL, 40),
  basic: Buffer.from(`admin:${rand(ALNUM, 12)}`).toString('base64'),
  generic: rand(HEX, 40),
  ghp: `ghp_${rand(ALNUM, 36)}`,
  gho: `gho_${rand(ALNUM, 36)}`,
  ghpat: `github_pat_${rand(ALNUM, 22)}_${rand(ALNUM, 59)}`,
  slackBot: `xoxb-${rand('0123456789', 12)}-${rand('0123456789', 13)}-${rand(ALNUM, 24)}`,
  slackUser: `xoxp-${rand('0123456789', 12)}-${rand('0123456789', 12)}-${rand('0123456789', 13)}-${rand(HEX, 32)}`,
  slackHook: `T${rand(UPPER_NUM, 8)}/B${rand(UPPER_NUM, 10)}/${rand(ALNUM, 24)}`,
  npm: `npm_${rand(ALNUM, 36)}`,
  stripeLive: `sk_live_${rand(ALNUM, 24)}`,
  stripeRestricted: `rk_live_${rand(ALNUM, 24)}`,
  akid: `AKIA${rand(UPPER_NUM, 16)}`,
  asid: `ASIA${rand(UPPER_NUM, 16)}`,
  googleKey: `AIza${rand(B64URL.replace('-', '').replace('_', ''), 35)}`,
  gcpKeyId: rand(HEX, 40),
  azureAccountKey: `${rand(B64, 86)}==`,
  azureSas: `${rand(B64, 43)}%3D`,
  azureSbKey: `${rand(B64, 43)}=`,
  cookie: rand(HEX, 32),
  envSecret: rand(B64URL, 48),
  yamlPass: `Tr0ub4dor&${rand(ALNUM, 6)}`,
  cliPass: rand(ALNUM, 14),
  jsonToken: rand(ALNUM, 32),
  queryPass: rand(ALNUM, 12),
  anthropic: `sk-ant-api03-${rand(B64URL, 90)}`,
  gitlab: `glpat-${rand(B64URL, 20)}`,
  sendgrid: `SG.${rand(B64URL, 22)}.${rand(B64URL, 43)}`,
  npmrc: rand(ALNUM, 36),
  dockerAuth: Buffer.from(`ci-bot:${rand(ALNUM, 20)}`).toString('base64'),
  vault: `hvs.${rand(ALNUM, 24)}`,
  pgpass: rand(ALNUM, 16),
  oauthSecret: `GOCSPX-${rand(B64URL, 28)}`,
  twilioAuth: rand(HEX, 32),
};

export const SECRET_CORPUS: SecretCase[] = [
  secret('env: API_KEY', `API_KEY=${s.apiKey}`, s.apiKey, ['API_KEY=']),
  secret('env: export with quotes', `export DATABASE_PASSWORD="${s.dbPass}"`, s.dbPass, ['DATABASE_PASSWORD=']),
  secret('env: .env line with spaces', `STRIPE_SECRET_KEY = ${s.stripeLive}`, s.stripeLive),
  secret('env: docker inspect Env array', `"Env": ["PATH=/usr/bin", "APP_SECRET=${s.envSecret}", "NODE_ENV=production"]`, s.envSecret, [
    'NODE_ENV=production',
  ]),
  secret('env: MYSQL_PWD', `MYSQL_PWD=${s.mysqlPass}`, s.mysqlPass),
  secret('conn: postgres', `DATABASE_URL=postgres://app:${s.dbPass}@db.internal:5432/app`, s.dbPass, [
    'postgres://app:',
    '@db.internal:5432',
  ]),
  secret('conn: mysql in log', `connecting to mysql://root:${s.mysqlPass}@10.0.0.5:3306/shop failed`, s.mysqlPass, [
    'mysql://root:',
    '@10.0.0.5',
  ]),
  secret('conn: redis empty user', `redis://:${s.redisPass}@cache:6379/0`, s.redisPass, ['@cache:6379']),
  secret('conn: mongodb+srv', `mongodb+srv://svc:${s.mongoPass}@cluster0.abcde.mongodb.net/?retryWrites=true`, s.mongoPass, [
    'mongodb+srv://svc:',
  ]),
  secret('conn: amqp with @ in password', `amqp://guest:${s.amqpPass}@x@rabbit:5672/`, [s.amqpPass], ['@rabbit:5672']),
  secret('bearer: curl trace', `> Authorization: Bearer ${s.bearer}`, s.bearer, ['Authorization: Bearer ']),
  secret('bearer: in prose log', `request sent with Bearer ${s.bearer} to upstream`, s.bearer),
  secret('basic auth header', `Authorization: Basic ${s.basic}`, s.basic, ['Basic ']),
  secret('generic api_key query', `GET /v1/items?api_key=${s.generic}&page=2`, s.generic, ['page=2']),
  secret('generic apikey json', `{"apiKey":"${s.jsonToken}","region":"eu"}`, s.jsonToken, ['"region":"eu"']),
  secret('jwt standalone', `session=${jwt}`, jwt),
  secret('jwt in cookie header', `Cookie: sid=${jwt}; theme=dark`, jwt),
  secret('pem: rsa pkcs1', `key file contents:\n${rsaPem}`, rsaBody),
  secret('pem: ec pkcs8', pkcs8Pem, pkcs8Body),
  secret('pem: ed25519 cut by output cap (no footer)', `-----BEGIN PRIVATE KEY-----\n${edBody}\n`, edBody),
  secret(
    'pem: openssh',
    `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA${opensshBody}\n-----END OPENSSH PRIVATE KEY-----`,
    opensshBody,
  ),
  secret(
    'gcp: service account json',
    `{"type":"service_account","project_id":"demo-123","private_key_id":"${s.gcpKeyId}","private_key":${JSON.stringify(pkcs8Pem)},"client_email":"svc@demo-123.iam.gserviceaccount.com"}`,
    [s.gcpKeyId, pkcs8Body],
    ['svc@demo-123.iam.gserviceaccount.com'],
  ),
  secret('aws: access key id in log', `using credentials ${s.akid} for s3`, s.akid),
  secret('aws: temporary key id', `"AccessKeyId": "${s.asid}"`, s.asid),
  secret('aws: credentials file', `[default]\naws_access_key_id = ${s.akid}\naws_secret_access_key = ${awsSecret}`, [s.akid, awsSecret]),
  secret('aws: bare secret key in output', `secret: ${awsSecret} (rotate soon)`, awsSecret),
  secret(
    'azure: storage connection string',
    `DefaultEndpointsProtocol=https;AccountName=prodlogs;AccountKey=${s.azureAccountKey};EndpointSuffix=core.windows.net`,
    s.azureAccountKey,
    ['AccountName=prodlogs'],
  ),
  secret(
    'azure: SAS url',
    `https://prodlogs.blob.core.windows.net/c/x.log?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-12-01T00:00:00Z&sig=${s.azureSas}`,
    s.azureSas,
    ['sv=2022-11-02'],
  ),
  secret(
    'azure: service bus',
    `Endpoint=sb://bus.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=${s.azureSbKey}`,
    s.azureSbKey,
  ),
  secret('slack: bot token', `SLACK_BOT=${s.slackBot}`, s.slackBot),
  secret('slack: user token in json', `{"ok":true,"access_token":"${s.slackUser}"}`, s.slackUser),
  secret('slack: webhook url', `posting to https://hooks.slack.com/services/${s.slackHook}`, s.slackHook),
  secret('github: ghp in git remote', `origin https://${s.ghp}@github.com/acme/app.git (fetch)`, s.ghp),
  secret('github: gho in log', `oauth token ${s.gho} refreshed`, s.gho),
  secret('github: fine-grained pat', `GH_PAT_CI: ${s.ghpat}`, s.ghpat),
  secret('npm: automation token', `publishing with ${s.npm}`, s.npm),
  secret('npm: .npmrc authToken', `//registry.npmjs.org/:_authToken=${s.npmrc}`, s.npmrc),
  secret('stripe: restricted key', `stripe client init key=${s.stripeRestricted}`, s.stripeRestricted),
  secret('google: api key', `maps?key=${s.googleKey}&q=x`, s.googleKey),
  secret('google: oauth client secret', `"client_secret": "${s.oauthSecret}"`, s.oauthSecret),
  secret('url: password in query string', `https://legacy.example.com/login?user=ops&password=${s.queryPass}`, s.queryPass, ['user=ops']),
  secret('cli: ps listing --password', `mysqldump --user=backup --password ${s.cliPass} shop`, s.cliPass, ['--user=backup']),
  secret('yaml: password field', `database:\n  host: db\n  password: ${s.yamlPass}\n`, s.yamlPass, ['host: db']),
  secret('anthropic key', `ANTHROPIC=${s.anthropic}`, s.anthropic),
  secret('gitlab pat', `using ${s.gitlab}`, s.gitlab),
  secret('sendgrid key', `mail via ${s.sendgrid}`, s.sendgrid),
  secret('docker config auth', `{"auths":{"registry.example.com":{"auth":"${s.dockerAuth}"}}}`, s.dockerAuth),
  secret('vault token header', `X-Vault-Token: ${s.vault}`, s.vault),
  secret('libpq keyword dsn', `host=db port=5432 user=app password=${s.pgpass} dbname=app`, s.pgpass, ['user=app']),
  secret('twilio auth token', `TWILIO_AUTH_TOKEN=${s.twilioAuth}`, s.twilioAuth),
];

/** Strings a scrubber must leave alone. Any change to one counts as a false positive. */
export const INNOCENT_CORPUS: Array<{ label: string; text: string }> = [
  { label: 'uuid', text: 'agent 3f2b8c1e-9a4d-4f6b-8e2a-7c5d1b0e9f34 connected' },
  { label: 'git sha', text: 'HEAD is now at 9fceb02d0ae598e95dc970b74767f19372d61af8 fix build' },
  { label: 'short git sha', text: 'commit 9fceb02 (origin/main)' },
  { label: 'sha256 digest', text: 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
  { label: 'docker image by digest', text: 'nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31' },
  {
    label: 'base64 image',
    text: `<img src="data:image/png;base64,${'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='}">`,
  },
  { label: 'redis keyspace section', text: '# Keyspace\ndb0:keys=1532,expires=12,avg_ttl=3600' },
  { label: 'redis info keyspace hits', text: 'keyspace_hits:10423\r\nkeyspace_misses:87' },
  { label: 'token bucket prose', text: 'The limiter uses a token bucket that refills 10 tokens per second.' },
  { label: 'token bucket config', text: 'token_bucket_capacity=100' },
  { label: 'llm max tokens', text: 'max_tokens: 4096' },
  { label: 'password policy text', text: 'Passwords must be at least 12 characters long.' },
  { label: 'sshd password auth', text: 'PasswordAuthentication no' },
  { label: 'PWD env', text: 'PWD=/home/deploy/app' },
  { label: 'OLDPWD env', text: 'OLDPWD=/home/deploy' },
  { label: 'harmless env', text: 'NODE_ENV=production\nAWS_REGION=eu-west-1\nLANG=C.UTF-8' },
  { label: 'url without credentials', text: 'GET http://localhost:8080/api/v1/health 200' },
  { label: 'url with port and path', text: 'docker://registry:5000/team/app@sha256:abc' },
  { label: 'ssh remote', text: 'git@github.com:acme/app.git' },
  { label: 'ssh url with user only', text: 'ssh://deploy@bastion.example.com:2222' },
  { label: 'email', text: 'contact ops@example.com for access' },
  { label: 'public certificate', text: '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUZ3J\n-----END CERTIFICATE-----' },
  { label: 'public key pem', text: '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----' },
  { label: 'ssh public key', text: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@laptop' },
  { label: 'bearer prose', text: 'Bearer authentication is described in RFC 6750.' },
  { label: 'ghp prefix prose', text: 'Classic tokens start with ghp_ and fine-grained ones with github_pat_.' },
  { label: 'aws arn', text: 'arn:aws:iam::123456789012:role/sonde-reader' },
  { label: 'aws role id', text: 'RoleId: AROAXXXXXXXXXXXXXXXXX' },
  { label: 'risk word with sk-', text: 'see risk-assessment-2024-final-version-approved.pdf' },
  { label: 'kubernetes secret name', text: 'mounted volume db-credentials-volume at /etc/creds' },
  { label: 'systemd unit', text: 'Active: active (running) since Tue 2026-11-24 00:12:01 UTC; 2h ago' },
  { label: 'df output', text: '/dev/sda1       50G   21G   27G  44% /' },
  { label: 'private ip in prose', text: 'private network 10.0.0.0/8 is reachable' },
  { label: 'monkey key', text: 'monkey=banana' },
  { label: 'keyboard layout', text: 'keyboard: us' },
  { label: 'nginx log line', text: '127.0.0.1 - - [24/Nov/2026:00:10:01 +0000] "GET /index.html HTTP/1.1" 200 612 "-" "curl/8.5.0"' },
  { label: 'md5 of a file', text: 'd41d8cd98f00b204e9800998ecf8427e  empty.txt' },
  { label: 'placeholder password', text: 'DB_PASSWORD=${DB_PASSWORD}' },
  { label: 'password placeholder doc', text: 'password: <your-password>' },
  { label: 'token count', text: 'token_count=42' },
  { label: 'npm package name', text: 'npm_config_cache=/root/.npm' },
  { label: 'postgres log', text: 'LOG:  database system is ready to accept connections' },
  { label: 'base64 config blob', text: 'eyJ2ZXJzaW9uIjoxfQ== is the encoded default' },
  { label: 'timestamps and ids', text: 'req_id=01HF8Z3K9Q2W7XJ5N4B6C8D0E1 ts=1732406400123' },
  { label: 'AWS docs example key', text: 'Example: AKIAIOSFODNN7EXAMPLE (from the AWS docs)' },
];
