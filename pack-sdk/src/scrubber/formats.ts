import { REDACTED, isSecretValue, type TextRule } from './patterns.js';
import { isSensitiveName } from './sensitive-names.js';

/**
 * Rules for secrets that sit in a format's own syntax rather than in a
 * `name=value` pair: SQL that sets a password, server configuration
 * directives (`requirepass x`), command lines (`mysql -pX`, `curl -u u:p`),
 * XML elements, tab-separated rows, password hashes and Sonde's own keys.
 *
 * Same rules as patterns.ts: linear-time regexes only. Every repetition is
 * bounded or stops at a character the next token cannot start with (`[^<]`
 * before `<`, `[^\n]` within a line), so a hostile 1 MiB string cannot stall
 * the agent; scrubber.test.ts times them.
 */

const SQL_LITERAL = String.raw`(?:E?'(?:[^'\\\n]|''|\\.){0,4096}'|"(?:[^"\\\n]|""|\\.){0,4096}"|\$\$[^$\n]{0,4096}\$\$)`;

/**
 * `ALTER USER x WITH PASSWORD 'p'`, `CREATE ROLE x LOGIN ENCRYPTED PASSWORD 'p'`,
 * `SET PASSWORD FOR 'u'@'%' = PASSWORD('p')`, `SET PASSWORD = 'p'`,
 * `IDENTIFIED BY 'p'`, `IDENTIFIED WITH caching_sha2_password BY 'p'` (or `AS '<hash>'`),
 * `OPTIONS (user 'u', password 'p')` of a foreign server or user mapping.
 */
const SQL_PASSWORD = new RegExp(
  String.raw`(?<![\w'"\x60])(` +
    // SET PASSWORD FOR 'u'@'h' = PASSWORD('p') / = 'p'
    String.raw`PASSWORD\s+FOR\s+[^=;\n]{1,200}?\s*=\s*(?:PASSWORD\s*\(\s*)?` +
    // [ENCRYPTED] PASSWORD 'p', PASSWORD = 'p', password 'p' in OPTIONS (…)
    String.raw`|(?:ENCRYPTED\s+|UNENCRYPTED\s+)?PASSWORD(?:\s*=\s*(?:PASSWORD\s*\(\s*)?|\s+)` +
    // IDENTIFIED [WITH plugin] BY|AS [PASSWORD] 'p'
    String.raw`|IDENTIFIED\s+(?:WITH\s+[\w'"\x60]{1,64}\s+)?(?:BY|AS)(?:\s+PASSWORD)?\s+` +
    String.raw`)(${SQL_LITERAL})`,
  'gi',
);

export const redactSqlPasswords: TextRule = (text, tally) =>
  text.replace(SQL_PASSWORD, (whole, head: string, literal: string) => {
    if (!isSecretValue(literal.replace(/^E?('|"|\$\$)|('|"|\$\$)$/g, ''))) return whole;
    tally.count += 1;
    const quote = literal.startsWith('$$') ? '$$' : literal.startsWith('E') ? "'" : literal[0];
    return `${head}${literal.startsWith('E') ? 'E' : ''}${quote}${REDACTED}${quote}`;
  });

/** A quoted name and value side by side, as Redis MONITOR prints `"CONFIG" "SET" "requirepass" "x"`. */
const QUOTED_PAIR = /("([A-Za-z_][\w.-]{0,100})"[ \t]+")([^"\n]{1,512})(")/g;

export const redactQuotedPairs: TextRule = (text, tally) =>
  text.replace(QUOTED_PAIR, (whole, head: string, name: string, value: string, close: string) => {
    if (!isSensitiveName(name) || !isSecretValue(value, name)) return whole;
    tally.count += 1;
    return `${head}${REDACTED}${close}`;
  });

/** Web server header directives: nginx `proxy_set_header Authorization "Basic x";`, Apache `RequestHeader set X-Api-Key x`. */
const HEADER_DIRECTIVE =
  /(\b(?:proxy_set_header|add_header|more_set_headers|grpc_set_header|RequestHeader[ \t]+(?:set|append|add)|Header[ \t]+(?:set|append|add))[ \t]+["']?(?:Proxy-)?(?:Authorization|X-Api-Key|Api-Key|Cookie|X-Auth-Token|X-Vault-Token|Private-Token)["']?[ \t]+["']?(?:(?:Basic|Bearer|Token|Digest)[ \t]+)?)([^"';\n]{1,4096})/gi;

export const redactHeaderDirectives: TextRule = (text, tally) =>
  text.replace(HEADER_DIRECTIVE, (whole, head: string, value: string) => {
    if (!isSecretValue(value)) return whole;
    tally.count += 1;
    return `${head}${REDACTED}`;
  });

/** Redis `AUTH [user] pass`, `HELLO 3 AUTH user pass`, and the same quoted as MONITOR prints it. */
const REDIS_AUTH = /(^|[\s"])(AUTH2?|auth2?)("?)((?:[ \t]+"?[^\s"]{1,512}"?){1,2})/gm;
const REDIS_ARG = /("?)([^\s"]{1,512})("?)/g;

export const redactRedisAuth: TextRule = (text, tally) =>
  text.replace(REDIS_AUTH, (whole, lead: string, word: string, quote: string, args: string) => {
    const first = /[^\s"]{1,512}/.exec(args)?.[0] ?? '';
    if (!isSecretValue(first) || /^(?:failed|required|error|ok)$/i.test(first)) return whole;
    tally.count += 1;
    return `${lead}${word}${quote}${args.replace(REDIS_ARG, (_arg, open: string, _value: string, close: string) => `${open}${REDACTED}${close}`)}`;
  });

/**
 * Directive lines without `=` or `:`: redis.conf `requirepass x`, `masterauth x`, keepalived `auth_pass x`,
 * slapd `rootpw x`, nss-ldap `bindpw x`, `CONFIG SET requirepass x`. The name decides (isSensitiveName, or a
 * known directive); a value that is an absolute path names a file holding the secret, not the secret.
 */
const DIRECTIVE =
  /^([ \t]*(?:CONFIG[ \t]+SET[ \t]+|config[ \t]+set[ \t]+)?)([A-Za-z_][A-Za-z0-9_.-]{0,100})([ \t]+)("[^"\n]{0,4096}"|'[^'\n]{0,4096}'|[^\s"';=:#{][^\s;]{0,4095})([ \t]*;?[ \t]*)$/gm;
const KNOWN_DIRECTIVES = new Set(['requirepass', 'masterauth', 'primaryauth', 'rootpw', 'bindpw', 'auth_pass']);

export const redactDirectives: TextRule = (text, tally) =>
  text.replace(DIRECTIVE, (whole, lead: string, name: string, space: string, value: string, tail: string) => {
    if (!(KNOWN_DIRECTIVES.has(name.toLowerCase()) || isSensitiveName(name))) return whole;
    const bare = value.replace(/^["']|["']$/g, '');
    if (bare.startsWith('/') || !isSecretValue(bare, name)) return whole;
    tally.count += 1;
    const quote = /^["']/.test(value) ? value[0] : '';
    return `${lead}${name}${space}${quote}${REDACTED}${quote}${tail}`;
  });

/** redis.conf / `ACL SETUSER` rules: `>password` adds a password, `#<sha256>` a hashed one. */
const ACL_LINE = /^([ \t]*(?:user|ACL[ \t]+SETUSER|acl[ \t]+setuser)[ \t]+\S+)([^\n]{0,4096})$/gm;

export const redactRedisAcl: TextRule = (text, tally) =>
  text.replace(ACL_LINE, (whole, head: string, rules: string) => {
    let changed = false;
    const out = rules.replace(/(\s)([>#])([^\s]{1,512})/g, (rule, space: string, kind: string, value: string) => {
      if (kind === '#' && !/^[0-9a-f]{64}$/i.test(value)) return rule;
      changed = true;
      tally.count += 1;
      return `${space}${kind}${REDACTED}`;
    });
    return changed ? `${head}${out}` : whole;
  });

/** `~/.pgpass`: `host:port:database:user:password`. */
const PGPASS = /^([^:\s#][^:\s]{0,255}:(?:\d{1,5}|\*):[^:\s]{1,255}:[^:\s]{1,255}:)([^\n]{1,4096})$/gm;

export const redactPgpass: TextRule = (text, tally) =>
  text.replace(PGPASS, (whole, head: string, password: string) => {
    if (!isSecretValue(password)) return whole;
    tally.count += 1;
    return `${head}${REDACTED}`;
  });

/** `.netrc`: `machine host login user password secret`. */
const NETRC = /(\b(?:login|account)[ \t]+\S{1,256}[ \t]+password[ \t]+)(\S{1,512})/gi;

export const redactNetrc: TextRule = (text, tally) =>
  text.replace(NETRC, (whole, head: string, password: string) => {
    if (!isSecretValue(password)) return whole;
    tally.count += 1;
    return `${head}${REDACTED}`;
  });

/**
 * Command-line credentials whose flag does not say "password": `mysql -pX`, `redis-cli -a X`,
 * `sshpass -p X`, `curl -u user:X`, `docker login -p X`, `ldapsearch -w X`, `sqlcmd -P X`,
 * `smbclient -U user%X`, `openssl … -passin pass:X`, `htpasswd -b file user X`, `java -Dx.password=X`.
 * Each tool-specific flag only counts on a line that names the tool, so `ssh -p 2222` or `gcc -pthread` stay.
 */
const TOOL_FLAGS: Array<{ re: RegExp; keep: number }> = [
  {
    re: /(\b(?:mysql|mysqladmin|mysqldump|mysqlimport|mysqlcheck|mysqlshow|mysqlpump|mysqlbinlog|mysqlsh|mariadb|mariadb-admin|mariadb-dump|mariadb-import|mariadb-check)\b[^\n]{0,400}?[ \t]-p)("[^"\n]{1,512}"|'[^'\n]{1,512}'|[^\s'"-][^\s]{0,511})/g,
    keep: 1,
  },
  { re: /(\b(?:redis-cli|keydb-cli|valkey-cli)\b[^\n]{0,400}?[ \t]-a[ \t]+)("[^"\n]{1,512}"|'[^'\n]{1,512}'|[^\s'"]{1,512})/g, keep: 1 },
  { re: /(\bsshpass\b[^\n]{0,256}?[ \t]-p[ \t]*)("[^"\n]{1,512}"|'[^'\n]{1,512}'|[^\s'"]{1,512})/g, keep: 1 },
  {
    re: /(\b(?:curl|wget|http|xh)\b[^\n]{0,400}?[ \t](?:-u|--user|-U|--proxy-user|--proxy-auth)[ \t=]+["']?[^\s:"']{0,256}:)([^\s"']{1,512})/g,
    keep: 1,
  },
  {
    re: /(\b(?:login|sqlcmd|bcp|mongo|mongosh|mongodump|mongorestore|mongoexport|mongoimport|rabbitmqctl|lftp)\b[^\n]{0,400}?[ \t](?:-p|-P)[ \t]+)("[^"\n]{1,512}"|'[^'\n]{1,512}'|[^\s'"-][^\s]{0,511})/g,
    keep: 1,
  },
  { re: /(\bldap\w{0,20}\b[^\n]{0,400}?[ \t]-w[ \t]+)("[^"\n]{1,512}"|'[^'\n]{1,512}'|[^\s'"]{1,512})/g, keep: 1 },
  { re: /(\bsmbclient\b[^\n]{0,400}?[ \t](?:-U|--user)[ \t=]+["']?[^\s%"']{1,256}%)([^\s"']{1,512})/g, keep: 1 },
  { re: /([ \t]-(?:passin|passout|pass|password|k)[ \t]+pass:)([^\s"']{1,512})/g, keep: 1 },
  {
    re: /(\bhtpasswd[ \t]+-[A-Za-z]{0,8}b[A-Za-z]{0,8}[ \t]+\S{1,512}[ \t]+\S{1,256}[ \t]+)("[^"\n]{1,512}"|'[^'\n]{1,512}'|[^\s'"]{1,512})/g,
    keep: 1,
  },
];

export const redactToolFlags: TextRule = (text, tally) => {
  let out = text;
  for (const { re } of TOOL_FLAGS) {
    out = out.replace(re, (whole, head: string, value: string) => {
      const quote = /^["']/.test(value) ? value[0] : '';
      if (!isSecretValue(value.replace(/^["']|["']$/g, ''))) return whole;
      tally.count += 1;
      return `${head}${quote}${REDACTED}${quote}`;
    });
  }
  return out;
};

/** `-Djavax.net.ssl.keyStorePassword=X` (Java system properties on a command line). */
const JAVA_PROPERTY = /([ \t]-D)([A-Za-z_][\w.-]{0,200})=("[^"\n]{0,512}"|'[^'\n]{0,512}'|[^\s"']{1,512})/g;

export const redactJavaProperties: TextRule = (text, tally) =>
  text.replace(JAVA_PROPERTY, (whole, flag: string, name: string, value: string) => {
    const lastWord = name.split('.').pop() ?? name;
    if (!(isSensitiveName(lastWord) || isSensitiveName(name)) || !isSecretValue(value)) return whole;
    tally.count += 1;
    const quote = /^["']/.test(value) ? value[0] : '';
    return `${flag}${name}=${quote}${REDACTED}${quote}`;
  });

/**
 * XML: `<password>x</password>`, `<entry key="db.password">x</entry>`, `<add key="ApiKey" value="x"/>`,
 * `<property name="password" value="x"/>`, plist `<key>Password</key><string>x</string>`.
 * `[^<]` and `[^<>]` stop at the next tag, so each match attempt ends at the next `<`.
 */
const XML_ELEMENT = /<([A-Za-z_][\w:.-]{0,64})((?:\s[^<>]{0,2048})?)>([^<]{1,8192})<\/\1\s*>/g;
const XML_TAG = /<([A-Za-z_][\w:.-]{0,64})(\s[^<>]{1,2048})>/g;
const XML_NAMING_ATTR = /\b(?:key|name|id)\s*=\s*(["'])([^"'<>]{1,200})\1/i;
const XML_VALUE_ATTR = /(\bvalue\s*=\s*)(["'])([^"'<>]{0,4096})\2/i;
const PLIST_PAIR = /(<key>)([^<]{1,200})(<\/key>\s*<(string|data|integer)>)([^<]{1,8192})(<\/\4>)/g;

function localName(qualified: string): string {
  return qualified.slice(qualified.lastIndexOf(':') + 1);
}

export const redactXml: TextRule = (text, tally) => {
  let out = text.replace(PLIST_PAIR, (whole, open: string, name: string, middle: string, _tag: string, value: string, close: string) => {
    if (!isSensitiveName(name.trim()) || !isSecretValue(value)) return whole;
    tally.count += 1;
    return `${open}${name}${middle}${REDACTED}${close}`;
  });
  out = out.replace(XML_ELEMENT, (whole, tag: string, attrs: string, content: string) => {
    const name = localName(tag);
    const named = XML_NAMING_ATTR.exec(attrs)?.[2];
    const sensitive = (!/^(?:key|name)$/i.test(name) && isSensitiveName(name)) || (named !== undefined && isSensitiveName(named));
    if (!sensitive || content.trim() === '' || !isSecretValue(content.trim())) return whole;
    tally.count += 1;
    return `<${tag}${attrs}>${REDACTED}</${tag}>`;
  });
  return out.replace(XML_TAG, (whole, tag: string, attrs: string) => {
    const named = XML_NAMING_ATTR.exec(attrs)?.[2];
    if (named === undefined || !isSensitiveName(named)) return whole;
    const value = XML_VALUE_ATTR.exec(attrs);
    if (!value || !isSecretValue(value[3])) return whole;
    tally.count += 1;
    return `<${tag}${attrs.replace(XML_VALUE_ATTR, `$1$2${REDACTED}$2`)}>`;
  });
};

/**
 * Tab-separated rows (`mysql -B`, `psql -A -F$'\t'`, `key<TAB>value` listings): a cell after a cell that is a
 * sensitive name, and every cell of a column whose header is one.
 */
export const redactTabSeparated: TextRule = (text, tally) => {
  const lines = text.split('\n');
  let secretColumns: number[] = [];
  let changed = false;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index];
    if (!line.includes('\t')) {
      secretColumns = [];
      continue;
    }
    const cells = line.split('\t');
    const isName = (cell: string): boolean => /^[A-Za-z_][\w.-]{0,100}$/.test(cell.trim()) && isSensitiveName(cell.trim());
    const headerColumns = cells.flatMap((cell, column) => (isName(cell) ? [column] : []));
    // The first row of a block made only of identifiers is a header (`User\tauthentication_string\tHost`),
    // unless it is a two-cell `name<TAB>value` pair.
    const firstOfBlock = index === 0 || !lines[index - 1].includes('\t');
    const header = firstOfBlock && cells.length > 2 && cells.every((cell) => /^[A-Za-z_][\w.-]{0,100}$/.test(cell.trim()));
    if (header) {
      secretColumns = headerColumns;
      continue;
    }
    let lineChanged = false;
    for (const column of secretColumns) {
      const cell = cells[column];
      if (cell !== undefined && cell !== REDACTED && isSecretValue(cell)) {
        cells[column] = REDACTED;
        tally.count += 1;
        lineChanged = true;
      }
    }
    for (let column = 0; column + 1 < cells.length; column++) {
      const next = cells[column + 1];
      if (isName(cells[column]) && !isName(next) && isSecretValue(next) && next !== REDACTED) {
        cells[column + 1] = REDACTED;
        tally.count += 1;
        lineChanged = true;
      }
    }
    if (lineChanged) {
      lines[index] = cells.join('\t');
      changed = true;
    }
  }
  return changed ? lines.join('\n') : text;
};

/**
 * Password hashes are offline-crackable secrets: crypt(3) (`$6$…`, `$2b$…`, `$y$…`, `$apr1$…`, argon2),
 * PostgreSQL `SCRAM-SHA-256$…` and `md5<32 hex>`, MySQL `*<40 HEX>`.
 */
const PASSWORD_HASH =
  /(?:\$(?:1|2[abxy]?|5|6|7|y|gy|apr1|argon2(?:id|i|d)|scrypt|pbkdf2(?:-sha\d{1,3})?)\$[A-Za-z0-9./+=$,:-]{8,1024}|\bSCRAM-SHA-256\$\d{1,7}:[A-Za-z0-9+/=]{1,128}\$[A-Za-z0-9+/=]{1,128}:[A-Za-z0-9+/=]{1,128}|\bmd5[0-9a-f]{32}\b|(?<![\w*])\*[0-9A-F]{40}\b)/g;

export const redactPasswordHashes: TextRule = (text, tally) =>
  text.replace(PASSWORD_HASH, () => {
    tally.count += 1;
    return REDACTED;
  });

/**
 * Sonde's own credentials: hub API keys are `sonde_` + 43 base64url characters; enrollment tokens are 43
 * base64url characters with no prefix (32 random bytes), so any 43-character base64url word that mixes
 * upper case, lower case and digits goes (session ids, PKCE verifiers and similar random secrets with it).
 */
const SONDE_KEY = /\bsonde_(?:enroll_)?[A-Za-z0-9_-]{32,128}(?![A-Za-z0-9_-])/g;
// Not a slice of a longer base64 text (a certificate): no `+`, `/` or `=` before it, no `+` or `/` after.
const RANDOM_43 = /(?<![A-Za-z0-9_+/=-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_+/-])/g;

export const redactSondeKeys: TextRule = (text, tally) => {
  let out = text.includes('sonde_')
    ? text.replace(SONDE_KEY, () => {
        tally.count += 1;
        return REDACTED;
      })
    : text;
  if (out.length < 43) return out;
  out = out.replace(RANDOM_43, (word) => {
    if (!(/[A-Z]/.test(word) && /[a-z]/.test(word) && /[0-9]/.test(word))) return word;
    tally.count += 1;
    return REDACTED;
  });
  return out;
};

/** Kubernetes Secret manifests in YAML: every value under `data:` / `stringData:` (base64 or not). */
export const redactKubernetesSecretYaml: TextRule = (text, tally) => {
  if (!/^[ \t]*kind:[ \t]*Secret[ \t]*$/m.test(text)) return text;
  const lines = text.split('\n');
  let blockIndent = -1;
  let entryIndent = -1;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index];
    if (line.trim() === '') continue;
    const indent = /^[ \t]*/.exec(line)![0].length;
    if (blockIndent >= 0 && indent <= blockIndent) blockIndent = -1;
    const opener = /^([ \t]*)(?:data|stringData):[ \t]*$/.exec(line);
    if (opener) {
      blockIndent = opener[1].length;
      entryIndent = -1;
      continue;
    }
    if (blockIndent < 0) continue;
    if (entryIndent < 0) entryIndent = indent;
    if (indent > entryIndent) {
      // A block scalar's lines (`key: |`): the value itself.
      lines[index] = `${line.slice(0, indent)}${REDACTED}`;
      tally.count += 1;
      continue;
    }
    const entry = /^([ \t]+[^:\s][^:]{0,253}:[ \t]+)(\S[^\n]*)$/.exec(line);
    if (entry && entry[2] !== REDACTED && !/^[|>]/.test(entry[2])) {
      lines[index] = `${entry[1]}${REDACTED}`;
      tally.count += 1;
    }
  }
  return lines.join('\n');
};
