/**
 * Real-world scrubber corpus: whole documents in the formats probes actually
 * return (database server logs and session lists, redis.conf and redis-cli,
 * shell history and process listings, CI logs, Kubernetes and Docker output,
 * server configuration, XML, tab-separated query output), each with the
 * secrets it carries. The clean documents are the same formats without
 * secrets: nothing in them may change. All values are made up.
 */

export interface RealWorldDoc {
  label: string;
  text: string;
  /** Every one of these must be gone. */
  secrets: string[];
  /** Context that must survive (what an operator needs to read the output). */
  keep?: string[];
}

const SONDE_API_KEY = 'sonde_q3Vb8ZkR2mT9xLwP4nHc7YdJ1sFgA6uE0oKiQ5rN2vM';
const ENROLL_TOKEN = 'Xk7fR2pQ9vLm3TzW8yBn4HcJ6dGs1aE5uKoY0iPqNrM';

export const SECRET_DOCS: RealWorldDoc[] = [
  {
    label: 'postgres server log with role DDL (log_statement = ddl)',
    text: [
      "2026-12-07 04:01:12.331 UTC [8812] app@appdb LOG:  statement: ALTER ROLE app WITH LOGIN PASSWORD 'Wint3r-is-c0ming!';",
      "2026-12-07 04:01:13.004 UTC [8813] postgres@postgres LOG:  statement: CREATE ROLE replicator REPLICATION LOGIN ENCRYPTED PASSWORD 'rep1-s3cr3t';",
      "2026-12-07 04:01:15.120 UTC [8815] postgres@postgres LOG:  statement: CREATE USER MAPPING FOR app SERVER legacy OPTIONS (user 'legacy', password 'fdw-pa55');",
      '2026-12-07 04:01:16.500 UTC [8816] app@appdb FATAL:  password authentication failed for user "app"',
    ].join('\n'),
    secrets: ['Wint3r-is-c0ming!', 'rep1-s3cr3t', 'fdw-pa55'],
    keep: ['ALTER ROLE app WITH LOGIN PASSWORD', 'password authentication failed for user "app"', "OPTIONS (user 'legacy'"],
  },
  {
    label: 'pg_stat_activity rows (a session setting a password)',
    text: JSON.stringify([
      { pid: 9021, usename: 'admin', state: 'active', query: "ALTER USER report_ro PASSWORD 'Rep0rting#2026'" },
      { pid: 9022, usename: 'app', state: 'idle', query: 'SELECT 1' },
    ]),
    secrets: ['Rep0rting#2026'],
    keep: ['ALTER USER report_ro PASSWORD', 'SELECT 1'],
  },
  {
    label: 'MySQL general query log',
    text: [
      '2026-12-07T04:02:01.123456Z\t   14 Connect\troot@localhost on  using Socket',
      "2026-12-07T04:02:01.124000Z\t   14 Query\tCREATE USER 'shop'@'%' IDENTIFIED BY 'Sh0p-Passw0rd'",
      "2026-12-07T04:02:02.000001Z\t   14 Query\tALTER USER 'shop'@'%' IDENTIFIED WITH caching_sha2_password BY 'N3w-Sh0p-pw'",
      "2026-12-07T04:02:03.000001Z\t   14 Query\tSET PASSWORD FOR 'legacy'@'localhost' = PASSWORD('old-legacy-pw')",
      "2026-12-07T04:02:04.000001Z\t   14 Query\tCHANGE REPLICATION SOURCE TO SOURCE_HOST='10.0.0.2', SOURCE_USER='repl', SOURCE_PASSWORD='r3pl-pw-99'",
      "2026-12-07T04:02:05.000001Z\t   14 Query\tGRANT SELECT ON shop.* TO 'ro'@'%' IDENTIFIED BY 'ro-pass-1'",
    ].join('\n'),
    secrets: ['Sh0p-Passw0rd', 'N3w-Sh0p-pw', 'old-legacy-pw', 'r3pl-pw-99', 'ro-pass-1'],
    keep: ["CREATE USER 'shop'@'%' IDENTIFIED BY", "SOURCE_HOST='10.0.0.2'", 'Connect\troot@localhost'],
  },
  {
    label: 'MySQL SHOW PROCESSLIST row',
    text: JSON.stringify({ Id: 31, User: 'root', Host: 'localhost', db: null, Command: 'Query', Info: "SET PASSWORD = 'r00t-new-pw'" }),
    secrets: ['r00t-new-pw'],
    keep: ['SET PASSWORD = '],
  },
  {
    label: 'mysql -B (tab-separated) user table',
    text: [
      'User\tHost\tauthentication_string\tplugin',
      'shop\t%\t*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9\tmysql_native_password',
      'app\tlocalhost\t$A$005$kV1sTq2w3e4r5t6y7u8i9o0pLk5J7h8G9f0D1s2A3\tcaching_sha2_password',
    ].join('\n'),
    secrets: ['6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9', 'kV1sTq2w3e4r5t6y7u8i9o0pLk5J7h8G9f0D1s2A3'],
    keep: ['shop\t%\t', 'mysql_native_password', 'User\tHost\tauthentication_string\tplugin'],
  },
  {
    label: 'tab-separated key/value listing',
    text: 'host\tdb.internal\nport\t5432\nuser\tapp\npassword\tT4b-Sep-Secret\nsslmode\trequire',
    secrets: ['T4b-Sep-Secret'],
    keep: ['host\tdb.internal', 'sslmode\trequire', 'port\t5432'],
  },
  {
    label: 'pg_authid via psql -A (hash shapes)',
    text: [
      'rolname|rolpassword',
      'app|SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0$dGhpc2lzdGhlc3RvcmVka2V5MTIzNDU2Nzg5MA==:c2VydmVya2V5c2VydmVya2V5MTIzNDU2Nzg5MA==',
      'old|md5a3556571e93b0d20722ba62be61e8c2d',
    ].join('\n'),
    secrets: ['dGhpc2lzdGhlc3RvcmVka2V5MTIzNDU2Nzg5MA==', 'md5a3556571e93b0d20722ba62be61e8c2d'],
    keep: ['rolname|rolpassword', 'app|'],
  },
  {
    label: 'redis.conf',
    text: [
      'bind 127.0.0.1 -::1',
      'port 6379',
      'requirepass "f00bared-R3dis"',
      'masterauth Mast3rAuth-77',
      'masteruser replica-user',
      'user default on >D3fault-Us3r-pw ~* &* +@all',
      'user ops on #9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 ~ops:* +get',
      'maxmemory-policy allkeys-lru',
    ].join('\n'),
    secrets: ['f00bared-R3dis', 'Mast3rAuth-77', 'D3fault-Us3r-pw', '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    keep: ['requirepass ', 'masterauth ', 'port 6379', 'maxmemory-policy allkeys-lru', 'masteruser replica-user', '~* &* +@all'],
  },
  {
    label: 'redis-cli MONITOR and CONFIG GET',
    text: [
      '1733544000.123456 [0 127.0.0.1:53490] "AUTH" "m0nit0r-pw"',
      '1733544001.000001 [0 127.0.0.1:53491] "HELLO" "3" "AUTH" "default" "h3llo-pw"',
      '1733544002.000001 [0 127.0.0.1:53492] "CONFIG" "SET" "requirepass" "n3w-requirepass"',
      '1733544003.000001 [0 127.0.0.1:53492] "GET" "session:42"',
    ].join('\n'),
    secrets: ['m0nit0r-pw', 'h3llo-pw', 'n3w-requirepass'],
    keep: ['"GET" "session:42"', '[0 127.0.0.1:53490]'],
  },
  {
    label: 'redis CONFIG GET * as a flat array',
    text: JSON.stringify(['requirepass', 'fl4t-array-pw', 'port', '6379', 'masterauth', 'fl4t-master']),
    secrets: ['fl4t-array-pw', 'fl4t-master'],
    keep: ['"port","6379"'],
  },
  {
    label: 'shell history',
    text: [
      'cd /srv/app',
      'mysql -uroot -pR00t-H1story shop < dump.sql',
      "mysqldump -u backup -p'B4ckup pw' --all-databases > all.sql",
      'redis-cli -h 127.0.0.1 -a Redis-Cli-pw123 info',
      'curl -u deploy:Curl-Pa55 https://ci.example.com/api/v1/jobs',
      'sshpass -p Ssh-Pa55word ssh deploy@10.0.0.9',
      'docker login -u bot -p D0cker-L0gin-pw registry.example.com',
      'PGPASSWORD=Pg-Env-Hist psql -h db -U app appdb',
      'htpasswd -b /etc/nginx/.htpasswd admin Htp4sswd-pw',
      'openssl pkcs12 -export -in c.pem -inkey k.pem -passout pass:P12-Expo-pw -out c.p12',
      'ldapsearch -x -D cn=admin,dc=example,dc=com -w Ld4p-Bind-pw -b dc=example,dc=com',
      'java -Djavax.net.ssl.keyStorePassword=Jks-St0re-pw -jar app.jar',
      'smbclient //fs/share -U alice%Smb-Pa55',
      `sonde enroll --hub https://hub.example.com --token ${ENROLL_TOKEN} --name web-1`,
      'git push origin main',
    ].join('\n'),
    secrets: [
      'R00t-H1story',
      'B4ckup pw',
      'Redis-Cli-pw123',
      'Curl-Pa55',
      'Ssh-Pa55word',
      'D0cker-L0gin-pw',
      'Pg-Env-Hist',
      'Htp4sswd-pw',
      'P12-Expo-pw',
      'Ld4p-Bind-pw',
      'Jks-St0re-pw',
      'Smb-Pa55',
      ENROLL_TOKEN,
    ],
    keep: ['cd /srv/app', 'git push origin main', 'curl -u deploy:', 'ssh deploy@10.0.0.9', 'redis-cli -h 127.0.0.1 -a '],
  },
  {
    label: 'ps auxww process listing',
    text: [
      'USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND',
      'postgres     812  0.0  0.3 215000 28000 ?        Ss   04:00   0:00 /usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main',
      'app         1204  1.2  2.1 980000 170000 ?       Sl   04:00   0:12 node server.js --db-password=Ps-Flag-pw --port 8080',
      'backup      2210  0.0  0.1  12000  4000 ?        S    04:05   0:00 mysqldump -h db -ubackup -pPs-Mysql-pw shop',
      'root        2300  0.0  0.0   8000  2000 ?        S    04:06   0:00 redis-cli -a Ps-Redis-pw --no-auth-warning ping',
    ].join('\n'),
    secrets: ['Ps-Flag-pw', 'Ps-Mysql-pw', 'Ps-Redis-pw'],
    keep: ['/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main', '--port 8080', 'mysqldump -h db -ubackup'],
  },
  {
    label: 'GitHub Actions / GitLab CI log',
    text: [
      '2026-12-07T04:10:00.0000000Z ##[group]Run npm ci',
      '2026-12-07T04:10:30.0000000Z added 812 packages in 29s',
      '2026-12-07T04:10:31.0000000Z + git clone https://oauth2:Ci-Cl0ne-T0ken-abcdef@gitlab.example.com/group/app.git',
      '2026-12-07T04:10:32.0000000Z + echo "//registry.npmjs.org/:_authToken=Npmrc-Aut4-T0ken" > .npmrc',
      '2026-12-07T04:10:33.0000000Z + mysql -h 127.0.0.1 -uroot -pCi-Mysql-pw -e "CREATE DATABASE test"',
      `2026-12-07T04:10:34.0000000Z + curl -H "Authorization: Bearer ${SONDE_API_KEY}" https://hub.example.com/api/v1/agents`,
      '2026-12-07T04:10:35.0000000Z + export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY',
      `2026-12-07T04:10:36.0000000Z created key ${SONDE_API_KEY}`,
      '2026-12-07T04:10:37.0000000Z ##[endgroup]',
    ].join('\n'),
    secrets: ['Ci-Cl0ne-T0ken-abcdef', 'Npmrc-Aut4-T0ken', 'Ci-Mysql-pw', SONDE_API_KEY, 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY'],
    keep: ['##[group]Run npm ci', 'added 812 packages in 29s', '@gitlab.example.com/group/app.git', '##[endgroup]'],
  },
  {
    label: 'kubectl get secret -o yaml',
    text: [
      'apiVersion: v1',
      'data:',
      '  DB_URL: cG9zdGdyZXM6Ly9hcHA6czNjcjN0QGRiOjU0MzIvYXBw',
      '  tls.key: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2Z0lCQURBTkJna3Fo',
      'kind: Secret',
      'metadata:',
      '  name: app-env',
      '  namespace: prod',
      'stringData:',
      '  config.yaml: |',
      '    upstream: https://api.example.com',
      '    apiToken: Str1ngData-T0ken',
      'type: Opaque',
    ].join('\n'),
    secrets: [
      'cG9zdGdyZXM6Ly9hcHA6czNjcjN0QGRiOjU0MzIvYXBw',
      'LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2Z0lCQURBTkJna3Fo',
      'Str1ngData-T0ken',
      'api.example.com',
    ],
    keep: ['name: app-env', 'namespace: prod', 'type: Opaque', 'DB_URL: '],
  },
  {
    label: 'kubectl get secret -o json (parsed)',
    text: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'registry' },
      data: { '.dockerconfigjson': 'eyJhdXRocyI6eyJyZWdpc3RyeS5leGFtcGxlLmNvbSI6eyJhdXRoIjoiWW05ME9uQmhjM009In19fQ==' },
    }),
    secrets: ['eyJhdXRocyI6eyJyZWdpc3RyeS5leGFtcGxlLmNvbSI6eyJhdXRoIjoiWW05ME9uQmhjM009In19fQ=='],
    keep: ['"name":"registry"'],
  },
  {
    label: 'docker inspect Config and docker history',
    text: [
      '"Env": ["MYSQL_ROOT_PASSWORD=D0cker-Env-pw", "PATH=/usr/local/sbin:/usr/local/bin", "GOSU_VERSION=1.17"],',
      '"Cmd": ["mysqld", "--default-authentication-plugin=mysql_native_password"],',
      '<missing>      2 weeks ago   /bin/sh -c #(nop)  ENV REDIS_PASSWORD=Hist0ry-Redis-pw   0B',
      '"Labels": {"com.example.db.url": "postgres://app:L4bel-Url-pw@db:5432/app"}',
    ].join('\n'),
    secrets: ['D0cker-Env-pw', 'Hist0ry-Redis-pw', 'L4bel-Url-pw'],
    keep: ['GOSU_VERSION=1.17', '--default-authentication-plugin=mysql_native_password', '@db:5432/app'],
  },
  {
    label: 'nginx -T and postgresql.conf and keepalived.conf',
    text: [
      'server {',
      '    listen 127.0.0.1:8080;',
      '    auth_basic "Restricted";',
      '    auth_basic_user_file /etc/nginx/.htpasswd;',
      '    proxy_set_header Authorization "Basic YWRtaW46TmdpbnhQcm94eVB3";',
      '    proxy_pass http://backend;',
      '}',
      "primary_conninfo = 'host=10.0.0.2 port=5432 user=replicator password=Pr1mary-Conn-pw'",
      "password_encryption = 'scram-sha-256'",
      'vrrp_instance VI_1 {',
      '    authentication {',
      '        auth_type PASS',
      '        auth_pass 1111',
      '    }',
      '}',
    ].join('\n'),
    secrets: ['YWRtaW46TmdpbnhQcm94eVB3', 'Pr1mary-Conn-pw', 'auth_pass 1111'],
    keep: [
      'auth_basic "Restricted";',
      'auth_basic_user_file /etc/nginx/.htpasswd;',
      "password_encryption = 'scram-sha-256'",
      'proxy_pass http://backend;',
    ],
  },
  {
    label: 'XML configuration (Maven settings, Tomcat, .NET, Spring, plist)',
    text: [
      '<settings><servers><server><id>nexus</id><username>deploy</username><password>Mvn-S3ttings-pw</password></server></servers></settings>',
      '<Resource name="jdbc/app" auth="Container" username="app" password="T0mcat-Res-pw" url="jdbc:postgresql://db/app"/>',
      '<appSettings><add key="StorageAccountKey" value="Net-Appsett1ngs-key"/><add key="Environment" value="Production"/></appSettings>',
      '<bean id="ds"><property name="password" value="Spr1ng-Bean-pw"/></bean>',
      '<entry key="db.password">Pr0ps-Entry-pw</entry>',
      '<dict><key>Password</key><string>Pl1st-Pw</string><key>Server</key><string>mail.example.com</string></dict>',
      '<connectionStrings><add name="Main" connectionString="Server=db;Database=app;User Id=app;Password=C0nnStr-pw;"/></connectionStrings>',
    ].join('\n'),
    secrets: ['Mvn-S3ttings-pw', 'T0mcat-Res-pw', 'Net-Appsett1ngs-key', 'Spr1ng-Bean-pw', 'Pr0ps-Entry-pw', 'Pl1st-Pw', 'C0nnStr-pw'],
    keep: [
      '<id>nexus</id>',
      '<username>deploy</username>',
      'value="Production"',
      '<string>mail.example.com</string>',
      'url="jdbc:postgresql://db/app"',
    ],
  },
  {
    label: 'URLs with credentials',
    text: [
      'amqp://guest:Rabb1t-pw@mq:5672/',
      'postgres://app:base64/with+slash==@db:5432/app',
      'https://ghp_UrlUs3rT0kenAbcdefghijklmnop12345678@github.com/org/repo.git',
      'https://1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d@o12345.ingest.sentry.io/67890',
      'redis://:R3dis-Url-pw@cache:6379/0',
      'http://localhost:4873/@sonde%2fpack-sdk',
    ].join('\n'),
    secrets: ['Rabb1t-pw', 'base64/with+slash==', 'UrlUs3rT0ken', '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d', 'R3dis-Url-pw'],
    keep: ['@mq:5672/', '@db:5432/app', '@github.com/org/repo.git', '@cache:6379/0', 'http://localhost:4873/@sonde%2fpack-sdk'],
  },
  {
    label: 'pgpass and netrc',
    text: [
      'localhost:5432:appdb:app:Pgp4ss-Line-pw',
      '*:*:*:replicator:Pgp4ss-Star-pw',
      'machine api.example.com login bot password N3trc-pw',
    ].join('\n'),
    secrets: ['Pgp4ss-Line-pw', 'Pgp4ss-Star-pw', 'N3trc-pw'],
    keep: ['localhost:5432:appdb:app:', 'machine api.example.com login bot password '],
  },
  {
    label: 'numeric secrets in text',
    text: ['password=1234', 'pin: 4711', 'auth_pass 2468', 'password_min_length=12', 'token_ttl: 3600'].join('\n'),
    secrets: ['password=1234', 'pin: 4711', 'auth_pass 2468'],
    keep: ['password_min_length=12', 'token_ttl: 3600'],
  },
  {
    label: "Sonde's own credentials in agent and hub output",
    text: [`{"apiKey":"${SONDE_API_KEY}"}`, `enrollment token ${ENROLL_TOKEN} expires in 15 minutes`, `SONDE_KEY=${SONDE_API_KEY}`].join(
      '\n',
    ),
    secrets: [SONDE_API_KEY, ENROLL_TOKEN],
    keep: ['expires in 15 minutes'],
  },
];

/** The same formats with nothing secret in them: the scrubber must return each unchanged. */
export const CLEAN_DOCS: Array<{ label: string; text: string }> = [
  {
    label: 'postgres server log',
    text: [
      '2026-12-07 04:00:00.001 UTC [812] LOG:  starting PostgreSQL 15.10 (Debian 15.10-0+deb12u1) on x86_64-pc-linux-gnu',
      '2026-12-07 04:00:00.004 UTC [812] LOG:  listening on IPv4 address "127.0.0.1", port 5432',
      '2026-12-07 04:00:00.006 UTC [812] LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"',
      '2026-12-07 04:05:00.100 UTC [815] LOG:  checkpoint starting: time',
      '2026-12-07 04:05:03.200 UTC [815] LOG:  checkpoint complete: wrote 31 buffers (0.2%); 0 WAL file(s) added, 0 removed, 0 recycled; write=3.010 s, sync=0.004 s, total=3.100 s; sync files=12, longest=0.002 s, average=0.001 s; distance=160 kB, estimate=160 kB',
      '2026-12-07 04:06:10.000 UTC [900] app@appdb FATAL:  password authentication failed for user "app"',
      '2026-12-07 04:06:10.000 UTC [900] app@appdb DETAIL:  Connection matched pg_hba.conf line 99: "host all all 127.0.0.1/32 scram-sha-256"',
      '2026-12-07 04:07:00.000 UTC [901] app@appdb ERROR:  duplicate key value violates unique constraint "users_email_key"',
      '2026-12-07 04:07:00.000 UTC [901] app@appdb STATEMENT:  INSERT INTO users (email, password_hash) VALUES ($1, $2)',
      '2026-12-07 04:08:00.000 UTC [902] LOG:  statement: ALTER ROLE app SET search_path = app, public',
    ].join('\n'),
  },
  {
    label: 'pg_settings rows',
    text: JSON.stringify([
      { name: 'password_encryption', setting: 'scram-sha-256', context: 'user' },
      { name: 'authentication_timeout', setting: '60', unit: 's' },
      { name: 'ssl_key_file', setting: '/etc/ssl/private/ssl-cert-snakeoil.key' },
    ]),
  },
  {
    label: 'MySQL error log',
    text: [
      '2026-12-07T04:00:01.000000Z 0 [System] [MY-010116] [Server] /usr/sbin/mysqld (mysqld 8.0.40) starting as process 1',
      '2026-12-07T04:00:02.000000Z 0 [Warning] [MY-010068] [Server] CA certificate ca.pem is self signed.',
      "2026-12-07T04:00:03.000000Z 8 [Note] [MY-010926] [Server] Access denied for user 'app'@'10.0.0.5' (using password: YES)",
      "2026-12-07T04:00:04.000000Z 0 [System] [MY-011323] [Server] X Plugin ready for connections. Bind-address: '::' port: 33060",
    ].join('\n'),
  },
  {
    label: 'mysql -B SHOW VARIABLES',
    text: [
      'Variable_name\tValue',
      'default_password_lifetime\t0',
      'password_history\t0',
      'password_require_current\tOFF',
      'port\t3306',
      'validate_password.length\t8',
    ].join('\n'),
  },
  {
    label: 'redis INFO',
    text: [
      '# Server',
      'redis_version:7.0.15',
      'tcp_port:6379',
      '# Clients',
      'connected_clients:3',
      '# Keyspace',
      'db0:keys=120,expires=4,avg_ttl=0',
    ].join('\r\n'),
  },
  {
    label: 'redis.conf without passwords',
    text: [
      'bind 127.0.0.1 -::1',
      'protected-mode yes',
      'port 6379',
      '# requirepass foobared',
      'maxmemory 256mb',
      'appendonly no',
      'save ""',
    ].join('\n'),
  },
  {
    label: 'shell history without secrets',
    text: [
      'ls -la /var/log',
      'mysql -u root -p',
      'psql -h localhost -U app -d appdb',
      'redis-cli -h 127.0.0.1 -p 6379 ping',
      'ssh -p 2222 deploy@10.0.0.9',
      'gcc -pthread -O2 -o app main.c',
      'docker login registry.example.com',
      'curl -sS https://example.com/health',
      'kubectl get pods -n prod',
      'git log --oneline -5',
      'export NODE_ENV=production',
    ].join('\n'),
  },
  {
    label: 'ps listing without secrets',
    text: [
      'USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND',
      'root           1  0.0  0.1 168000 12000 ?        Ss   04:00   0:01 /sbin/init',
      'redis        700  0.2  0.4  62000 10000 ?        Ssl  04:00   0:03 /usr/bin/redis-server 127.0.0.1:6379',
      'mysql        720  0.5  9.0 2400000 370000 ?      Ssl  04:00   0:20 /usr/sbin/mysqld --user=mysql --pid-file=/run/mysqld/mysqld.pid',
      'postgres     813  0.0  0.1 215000  6000 ?        Ss   04:00   0:00 postgres: 15/main: checkpointer',
    ].join('\n'),
  },
  {
    label: 'CI log without secrets',
    text: [
      '2026-12-07T04:10:00.0000000Z ##[group]Run actions/checkout@v4',
      '2026-12-07T04:10:01.0000000Z Syncing repository: org/app',
      '2026-12-07T04:10:05.0000000Z ##[endgroup]',
      '2026-12-07T04:10:30.0000000Z added 812 packages, and audited 813 packages in 29s',
      '2026-12-07T04:10:31.0000000Z found 0 vulnerabilities',
      ' ✓ test/auth.test.ts (12 tests) 830ms',
      ' Test Files  4 passed (4)',
    ].join('\n'),
  },
  {
    label: 'kubectl get pods and describe',
    text: [
      'NAME                      READY   STATUS    RESTARTS   AGE',
      'web-7d4b9c8f6d-x2lkq      1/1     Running   0          3d2h',
      'worker-5f6c7d8e9f-abcde   1/1     Running   2          3d2h',
      '    Environment:',
      "      DB_PASSWORD:  <set to the key 'password' in secret 'db'>  Optional: false",
      '      LOG_LEVEL:    info',
      '    Mounts:',
      '      /var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-7xk2p (ro)',
    ].join('\n'),
  },
  {
    label: 'docker ps and images',
    text: [
      'CONTAINER ID   IMAGE          COMMAND                  CREATED       STATUS       PORTS                      NAMES',
      'f3a9c1d2e4b5   postgres:15    "docker-entrypoint.s…"   3 days ago    Up 3 days    127.0.0.1:5432->5432/tcp   db',
      'REPOSITORY   TAG   IMAGE ID       CREATED      SIZE',
      'redis        7     7f5e3b2a1c0d   2 weeks ago  117MB',
      'sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9',
    ].join('\n'),
  },
  {
    label: 'nginx -T without secrets',
    text: [
      'server {',
      '    listen 127.0.0.1:8080;',
      '    server_name example.com;',
      '    auth_basic "Restricted";',
      '    auth_basic_user_file /etc/nginx/.htpasswd;',
      '    ssl_certificate_key /etc/ssl/private/example.key;',
      '    ssl_password_file /etc/keys/global.pass;',
      '    location / { proxy_pass http://127.0.0.1:3000; }',
      '}',
    ].join('\n'),
  },
  {
    label: 'sshd_config',
    text: [
      'PasswordAuthentication no',
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'HostKey /etc/ssh/ssh_host_ed25519_key',
      'KbdInteractiveAuthentication no',
    ].join('\n'),
  },
  {
    label: 'XML without secrets',
    text: [
      '<project><modelVersion>4.0.0</modelVersion><groupId>com.example</groupId><version>1.2.3</version></project>',
      '<dict><key>CFBundleName</key><string>App</string><key>CFBundleVersion</key><string>42</string></dict>',
      '<add key="Environment" value="Production"/>',
    ].join('\n'),
  },
  {
    label: 'a PEM certificate (public)',
    text: [
      '-----BEGIN CERTIFICATE-----',
      'MIIBszCCAVmgAwIBAgIUYx8Jm3vKq1r0ZzQe9u6cX5n2bWowCgYIKoZIzj0EAwIw',
      'FzEVMBMGA1UEAwwMc29uZGUtaHViLWNhMB4XDTI2MTIwNzA0MDAwMFoXDTI3MTIw',
      'NzA0MDAwMFowFzEVMBMGA1UEAwwMc29uZGUtaHViLWNhMFkwEwYHKoZIzj0CAQYI',
      '-----END CERTIFICATE-----',
    ].join('\n'),
  },
  {
    label: 'system facts',
    text: [
      'Linux web-1 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64 GNU/Linux',
      'Filesystem      Size  Used Avail Use% Mounted on',
      '/dev/nvme0n1p1   50G   21G   27G  44% /',
      'tmpfs           3.9G     0  3.9G   0% /dev/shm',
      'MemTotal:        8039432 kB',
      '6a1c2f0e-9b8d-4c7a-b6e5-d4c3b2a1f0e9',
    ].join('\n'),
  },
];
