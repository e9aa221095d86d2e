import GRDB

/// Versioned schema migrations. Never edit a shipped migration: add a new one.
enum SQLiteMigrations {
    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-control-plane") { db in
            try db.execute(
                sql: """
                    CREATE TABLE resources (
                        id TEXT PRIMARY KEY NOT NULL,
                        type TEXT NOT NULL,
                        workspace_id TEXT,
                        service_id TEXT,
                        template_name TEXT NOT NULL,
                        owner_id TEXT,
                        deleted INTEGER NOT NULL DEFAULT 0,
                        etag TEXT NOT NULL,
                        created_when REAL NOT NULL,
                        doc TEXT NOT NULL
                    );
                    CREATE INDEX resources_by_type ON resources(type, deleted);
                    CREATE INDEX resources_by_workspace ON resources(workspace_id, deleted);
                    CREATE INDEX resources_by_template ON resources(template_name, deleted);

                    CREATE TABLE resource_history (
                        id TEXT PRIMARY KEY NOT NULL,
                        resource_id TEXT NOT NULL,
                        resource_version INTEGER NOT NULL,
                        doc TEXT NOT NULL
                    );
                    CREATE INDEX history_by_resource ON resource_history(resource_id, resource_version);

                    CREATE TABLE templates (
                        id TEXT PRIMARY KEY NOT NULL,
                        type TEXT NOT NULL,
                        name TEXT NOT NULL,
                        version TEXT NOT NULL,
                        parent TEXT NOT NULL DEFAULT '',
                        current INTEGER NOT NULL,
                        registered_seq INTEGER NOT NULL,
                        doc TEXT NOT NULL,
                        UNIQUE(type, name, version, parent)
                    );

                    CREATE TABLE operations (
                        id TEXT PRIMARY KEY NOT NULL,
                        resource_id TEXT NOT NULL,
                        user_id TEXT NOT NULL,
                        status TEXT NOT NULL,
                        created_when REAL NOT NULL,
                        doc TEXT NOT NULL
                    );
                    CREATE INDEX operations_by_resource ON operations(resource_id, created_when);
                    CREATE INDEX operations_by_user_status ON operations(user_id, status);

                    CREATE TABLE jobs (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE,
                        operation_id TEXT NOT NULL,
                        resource_id TEXT NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('queued', 'running')),
                        lease_owner TEXT,
                        lease_expires REAL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        enqueued_at REAL NOT NULL
                    );
                    CREATE INDEX jobs_by_state ON jobs(state, seq);
                    CREATE INDEX jobs_by_resource ON jobs(resource_id, state, seq);

                    CREATE TABLE role_assignments (
                        workspace_id TEXT NOT NULL,
                        user_id TEXT NOT NULL,
                        role TEXT NOT NULL,
                        assigned_when REAL NOT NULL,
                        PRIMARY KEY (workspace_id, user_id, role)
                    );
                    CREATE INDEX assignments_by_user ON role_assignments(user_id);

                    CREATE TABLE users (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        email TEXT NOT NULL,
                        roles TEXT NOT NULL,
                        first_seen REAL NOT NULL,
                        last_seen REAL NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v2-secrets") { db in
            // Sensitive property values, sealed (AES-GCM) by the caller; resources themselves hold "REDACTED".
            try db.execute(sql: "CREATE TABLE secrets (resource_id TEXT PRIMARY KEY NOT NULL, sealed TEXT NOT NULL)")
        }
        migrator.registerMigration("v3-audit") { db in
            // The hash-chained audit log (see `AuditRecord`). `sequence` is assigned by the writer as last + 1 inside
            // its IMMEDIATE transaction, so the chain has no gaps. The triggers make the table append-only for
            // everything that goes through SQLite, Enclave included; they do not stop someone who can drop them.
            try db.execute(
                sql: """
                    CREATE TABLE audit (
                        sequence INTEGER PRIMARY KEY NOT NULL,
                        id TEXT NOT NULL UNIQUE,
                        time REAL NOT NULL,
                        actor_id TEXT NOT NULL,
                        actor_name TEXT NOT NULL,
                        action TEXT NOT NULL,
                        target TEXT NOT NULL,
                        outcome TEXT NOT NULL,
                        details TEXT NOT NULL,
                        request_id TEXT,
                        previous_hash TEXT NOT NULL,
                        hash TEXT NOT NULL
                    );
                    CREATE INDEX audit_by_actor ON audit(actor_id, sequence);
                    CREATE INDEX audit_by_action ON audit(action, sequence);
                    CREATE INDEX audit_by_target ON audit(target, sequence);
                    CREATE INDEX audit_by_time ON audit(time);
                    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
                    BEGIN SELECT RAISE(ABORT, 'audit records are append-only: UPDATE is not allowed'); END;
                    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
                    BEGIN SELECT RAISE(ABORT, 'audit records are append-only: DELETE is not allowed'); END;
                    """)
        }
        migrator.registerMigration("v4-accounts") { db in
            // The built-in identity provider's accounts (`users` is already the users-seen table of v1).
            // `username` is normalized (`UserAccount.normalize`), so uniqueness ignores case.
            try db.execute(
                sql: """
                    CREATE TABLE accounts (
                        id TEXT PRIMARY KEY NOT NULL,
                        username TEXT NOT NULL UNIQUE,
                        doc TEXT NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v5-invitations") { db in
            // One-time links for invited built-in accounts (`Invitation`): only the token's SHA-256 is kept, at
            // most one link per account (re-issuing replaces it), and a used link keeps its row with `used_at`
            // so a replay can be told from an unknown token.
            try db.execute(
                sql: """
                    CREATE TABLE invitations (
                        user_id TEXT PRIMARY KEY NOT NULL,
                        token_hash TEXT NOT NULL UNIQUE,
                        issued_at REAL NOT NULL,
                        expires_at REAL NOT NULL,
                        used_at REAL
                    );
                    """)
        }
        migrator.registerMigration("v6-credentials") { db in
            // Browser sessions, refresh tokens and automation clients: only SHA-256 hashes of their secrets.
            try db.execute(
                sql: """
                    CREATE TABLE sessions (
                        id TEXT PRIMARY KEY NOT NULL,
                        user_id TEXT NOT NULL,
                        ended_at REAL,
                        doc TEXT NOT NULL
                    );
                    CREATE INDEX sessions_by_user ON sessions(user_id);
                    CREATE TABLE refresh_tokens (
                        id TEXT PRIMARY KEY NOT NULL,
                        family TEXT NOT NULL,
                        user_id TEXT NOT NULL,
                        client_id TEXT NOT NULL,
                        expires_at REAL NOT NULL,
                        doc TEXT NOT NULL
                    );
                    CREATE INDEX refresh_tokens_by_family ON refresh_tokens(family);
                    CREATE INDEX refresh_tokens_by_user ON refresh_tokens(user_id, client_id);
                    CREATE TABLE automation_clients (
                        id TEXT PRIMARY KEY NOT NULL,
                        doc TEXT NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v7-local-dataplane") { db in
            // Slots of host resources (a workspace's /30 in the address pool, its uid): unique per kind.
            try db.execute(
                sql: """
                    CREATE TABLE host_allocations (
                        kind TEXT NOT NULL,
                        slot INTEGER NOT NULL,
                        owner TEXT NOT NULL,
                        allocated_at REAL NOT NULL,
                        PRIMARY KEY (kind, slot),
                        UNIQUE (kind, owner)
                    );
                    """)
        }
        migrator.registerMigration("v8-airlock") { db in
            // Airlock requests: the document plus the columns lists filter and order on.
            try db.execute(
                sql: """
                    CREATE TABLE airlock_requests (
                        id TEXT PRIMARY KEY NOT NULL,
                        workspace_id TEXT NOT NULL,
                        type TEXT NOT NULL,
                        status TEXT NOT NULL,
                        title TEXT NOT NULL,
                        created_by TEXT NOT NULL,
                        created_when REAL NOT NULL,
                        updated_when REAL NOT NULL,
                        doc TEXT NOT NULL
                    );
                    CREATE INDEX airlock_requests_by_workspace ON airlock_requests(workspace_id, created_when);
                    CREATE INDEX airlock_requests_by_creator ON airlock_requests(created_by, created_when);
                    CREATE INDEX airlock_requests_by_status ON airlock_requests(status);
                    """)
        }
        migrator.registerMigration("v9-notifications") { db in
            // The airlock notifier's delivery log, and how far it has read the audit log (one row).
            try db.execute(
                sql: """
                    CREATE TABLE notification_deliveries (
                        id TEXT PRIMARY KEY NOT NULL,
                        audit_sequence INTEGER NOT NULL,
                        channel TEXT NOT NULL,
                        target TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        attempts INTEGER NOT NULL,
                        status TEXT NOT NULL,
                        last_error TEXT,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL,
                        next_attempt_at REAL NOT NULL
                    );
                    CREATE INDEX notification_deliveries_due ON notification_deliveries(status, next_attempt_at);
                    CREATE INDEX notification_deliveries_by_audit ON notification_deliveries(audit_sequence);
                    CREATE TABLE notification_cursor (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        sequence INTEGER NOT NULL
                    );
                    -- An existing install starts after its history: enabling notifications must not replay old changes.
                    INSERT INTO notification_cursor (id, sequence) SELECT 1, COALESCE(MAX(sequence), 0) FROM audit;
                    """)
        }
        return migrator
    }
}
