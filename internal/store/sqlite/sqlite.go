// Package sqlite is the embedded store engine on modernc.org/sqlite (pure Go,
// so the binary stays static). The database runs in WAL mode; the schema is
// versioned in code and migrated forward at open.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/ringo-pbx/ringo/internal/store"
	"github.com/ringo-pbx/ringo/internal/store/sqlite/schema"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// migrations are applied in order; PRAGMA user_version records how many ran.
// Never edit a released migration: append a new one.
var migrations = []string{
	`CREATE TABLE domains (
		name    TEXT PRIMARY KEY,
		main    INTEGER NOT NULL DEFAULT 0,
		created INTEGER NOT NULL,
		updated INTEGER NOT NULL
	);
	CREATE TABLE accounts (
		domain     TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
		name       TEXT NOT NULL,
		real_name  TEXT NOT NULL DEFAULT '',
		ha1_md5    TEXT NOT NULL DEFAULT '',
		ha1_sha256 TEXT NOT NULL DEFAULT '',
		prefs      TEXT NOT NULL DEFAULT '{}',
		created    INTEGER NOT NULL,
		updated    INTEGER NOT NULL,
		PRIMARY KEY (domain, name)
	);
	CREATE TABLE aliases (
		domain  TEXT NOT NULL,
		alias   TEXT NOT NULL,
		account TEXT NOT NULL,
		PRIMARY KEY (domain, alias),
		FOREIGN KEY (domain, account) REFERENCES accounts(domain, name) ON DELETE CASCADE
	);
	CREATE TABLE forwarders (
		domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
		name   TEXT NOT NULL,
		target TEXT NOT NULL,
		PRIMARY KEY (domain, name)
	);
	CREATE TABLE bindings (
		aor     TEXT NOT NULL,
		contact TEXT NOT NULL,
		expires INTEGER NOT NULL,
		data    TEXT NOT NULL,
		PRIMARY KEY (aor, contact)
	);`,
	// Domain settings, one JSON document like an account's prefs.
	`ALTER TABLE domains ADD COLUMN prefs TEXT NOT NULL DEFAULT '{}';`,
}

// DB is the SQLite store.
type DB struct {
	db *sql.DB
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database in dir and migrates it.
func Open(ctx context.Context, dir string) (*DB, error) {
	path := filepath.Join(dir, "ringo.db")
	db, err := sql.Open("sqlite", schema.DSN(path, "journal_mode(WAL)", "busy_timeout(5000)", "foreign_keys(1)", "synchronous(NORMAL)"))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// One connection serialises writers without SQLITE_BUSY churn; the
	// directory is served from memory, so reads are rare.
	db.SetMaxOpenConns(1)
	s := &DB{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return s, nil
}

func (s *DB) migrate(ctx context.Context) error { return schema.Migrate(ctx, s.db, migrations) }

// Close closes the database.
func (s *DB) Close() error { return s.db.Close() }

func unix(t time.Time) int64 {
	if t.IsZero() {
		return time.Now().UnixMilli()
	}
	return t.UnixMilli()
}

func fromUnix(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// Domains lists all domains by name.
func (s *DB) Domains(ctx context.Context) ([]store.Domain, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT name, main, prefs, created, updated FROM domains ORDER BY created, name")
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	defer rows.Close()
	var out []store.Domain
	for rows.Next() {
		var d store.Domain
		var prefs string
		var c, u int64
		if err := rows.Scan(&d.Name, &d.Main, &prefs, &c, &u); err != nil {
			return nil, fmt.Errorf("list domains: %w", err)
		}
		if err := json.Unmarshal([]byte(prefs), &d.Prefs); err != nil {
			return nil, fmt.Errorf("domain %s prefs: %w", d.Name, err)
		}
		d.Created, d.Updated = fromUnix(c), fromUnix(u)
		out = append(out, d)
	}
	return out, rows.Err()
}

// PutDomain inserts or updates a domain. Only one domain may be main.
func (s *DB) PutDomain(ctx context.Context, d store.Domain) error {
	prefs, err := json.Marshal(d.Prefs)
	if err != nil {
		return fmt.Errorf("put domain %s: %w", d.Name, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("put domain %s: %w", d.Name, err)
	}
	defer tx.Rollback()
	if d.Main {
		if _, err := tx.ExecContext(ctx, "UPDATE domains SET main = 0 WHERE name <> ?", d.Name); err != nil {
			return fmt.Errorf("put domain %s: %w", d.Name, err)
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO domains (name, main, prefs, created, updated) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET main = excluded.main, prefs = excluded.prefs, updated = excluded.updated`,
		d.Name, d.Main, string(prefs), unix(d.Created), unix(d.Updated))
	if err != nil {
		return fmt.Errorf("put domain %s: %w", d.Name, err)
	}
	return tx.Commit()
}

// DeleteDomain removes a domain with its accounts, aliases and forwarders.
func (s *DB) DeleteDomain(ctx context.Context, name string) error {
	return s.exec1(ctx, "delete domain "+name, "DELETE FROM domains WHERE name = ?", name)
}

func (s *DB) exec1(ctx context.Context, what, q string, args ...any) error {
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// Accounts lists a domain's accounts ("" lists every domain's).
func (s *DB) Accounts(ctx context.Context, domain string) ([]store.Account, error) {
	q := "SELECT domain, name, real_name, ha1_md5, ha1_sha256, prefs, created, updated FROM accounts"
	var args []any
	if domain != "" {
		q += " WHERE domain = ?"
		args = append(args, domain)
	}
	rows, err := s.db.QueryContext(ctx, q+" ORDER BY domain, name", args...)
	if err != nil {
		return nil, fmt.Errorf("list accounts %s: %w", domain, err)
	}
	var out []store.Account
	index := map[[2]string]int{}
	for rows.Next() {
		var a store.Account
		var prefs string
		var c, u int64
		if err := rows.Scan(&a.Domain, &a.Name, &a.RealName, &a.HA1MD5, &a.HA1SHA256, &prefs, &c, &u); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list accounts %s: %w", domain, err)
		}
		if err := json.Unmarshal([]byte(prefs), &a.Prefs); err != nil {
			rows.Close()
			return nil, fmt.Errorf("account %s@%s prefs: %w", a.Name, a.Domain, err)
		}
		a.Created, a.Updated = fromUnix(c), fromUnix(u)
		a.Aliases = []string{}
		index[[2]string{a.Domain, a.Name}] = len(out)
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	q = "SELECT domain, alias, account FROM aliases"
	if domain != "" {
		q += " WHERE domain = ?"
	}
	rows, err = s.db.QueryContext(ctx, q+" ORDER BY domain, alias", args...)
	if err != nil {
		return nil, fmt.Errorf("list aliases %s: %w", domain, err)
	}
	defer rows.Close()
	for rows.Next() {
		var d, alias, acc string
		if err := rows.Scan(&d, &alias, &acc); err != nil {
			return nil, err
		}
		if i, ok := index[[2]string{d, acc}]; ok {
			out[i].Aliases = append(out[i].Aliases, alias)
		}
	}
	return out, rows.Err()
}

// PutAccount inserts or replaces an account and its aliases.
func (s *DB) PutAccount(ctx context.Context, a store.Account) error {
	prefs, err := json.Marshal(a.Prefs)
	if err != nil {
		return fmt.Errorf("put account %s@%s: %w", a.Name, a.Domain, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("put account %s@%s: %w", a.Name, a.Domain, err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO accounts (domain, name, real_name, ha1_md5, ha1_sha256, prefs, created, updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(domain, name) DO UPDATE SET real_name = excluded.real_name, ha1_md5 = excluded.ha1_md5,
		ha1_sha256 = excluded.ha1_sha256, prefs = excluded.prefs, updated = excluded.updated`,
		a.Domain, a.Name, a.RealName, a.HA1MD5, a.HA1SHA256, string(prefs), unix(a.Created), unix(a.Updated))
	if err != nil {
		return fmt.Errorf("put account %s@%s: %w", a.Name, a.Domain, classify(err))
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM aliases WHERE domain = ? AND account = ?", a.Domain, a.Name); err != nil {
		return fmt.Errorf("put account %s@%s: %w", a.Name, a.Domain, err)
	}
	for _, al := range a.Aliases {
		if _, err := tx.ExecContext(ctx, "INSERT INTO aliases (domain, alias, account) VALUES (?, ?, ?)", a.Domain, al, a.Name); err != nil {
			return fmt.Errorf("put account %s@%s: alias %s: %w", a.Name, a.Domain, al, classify(err))
		}
	}
	return tx.Commit()
}

// classify maps constraint violations to store.ErrConflict.
func classify(err error) error {
	if err != nil && (strings.Contains(err.Error(), "UNIQUE constraint") || strings.Contains(err.Error(), "FOREIGN KEY constraint")) {
		return fmt.Errorf("%w: %v", store.ErrConflict, err)
	}
	return err
}

// DeleteAccount removes an account and its aliases.
func (s *DB) DeleteAccount(ctx context.Context, domain, name string) error {
	return s.exec1(ctx, "delete account "+name+"@"+domain, "DELETE FROM accounts WHERE domain = ? AND name = ?", domain, name)
}

// Forwarders lists a domain's forwarders ("" lists every domain's).
func (s *DB) Forwarders(ctx context.Context, domain string) ([]store.Forwarder, error) {
	q := "SELECT domain, name, target FROM forwarders"
	var args []any
	if domain != "" {
		q += " WHERE domain = ?"
		args = append(args, domain)
	}
	rows, err := s.db.QueryContext(ctx, q+" ORDER BY domain, name", args...)
	if err != nil {
		return nil, fmt.Errorf("list forwarders %s: %w", domain, err)
	}
	defer rows.Close()
	var out []store.Forwarder
	for rows.Next() {
		var f store.Forwarder
		if err := rows.Scan(&f.Domain, &f.Name, &f.To); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// PutForwarder inserts or replaces a forwarder.
func (s *DB) PutForwarder(ctx context.Context, f store.Forwarder) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO forwarders (domain, name, target) VALUES (?, ?, ?)
		ON CONFLICT(domain, name) DO UPDATE SET target = excluded.target`, f.Domain, f.Name, f.To)
	if err != nil {
		return fmt.Errorf("put forwarder %s@%s: %w", f.Name, f.Domain, classify(err))
	}
	return nil
}

// DeleteForwarder removes a forwarder.
func (s *DB) DeleteForwarder(ctx context.Context, domain, name string) error {
	return s.exec1(ctx, "delete forwarder "+name+"@"+domain, "DELETE FROM forwarders WHERE domain = ? AND name = ?", domain, name)
}

// Bindings returns every stored binding that has not expired.
func (s *DB) Bindings(ctx context.Context) ([]store.Binding, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT data FROM bindings WHERE expires > ?", time.Now().UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("load bindings: %w", err)
	}
	defer rows.Close()
	var out []store.Binding
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("load bindings: %w", err)
		}
		var b store.Binding
		if err := json.Unmarshal([]byte(data), &b); err != nil {
			return nil, fmt.Errorf("load bindings: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// SaveBindings upserts put and deletes del in one transaction, and drops
// rows that have expired meanwhile.
func (s *DB) SaveBindings(ctx context.Context, put, del []store.Binding) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save bindings: %w", err)
	}
	defer tx.Rollback()
	for _, b := range del {
		if _, err := tx.ExecContext(ctx, "DELETE FROM bindings WHERE aor = ? AND contact = ?", b.AOR, b.Contact); err != nil {
			return fmt.Errorf("save bindings: %w", err)
		}
	}
	for _, b := range put {
		data, err := json.Marshal(b)
		if err != nil {
			return fmt.Errorf("save bindings: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO bindings (aor, contact, expires, data) VALUES (?, ?, ?, ?)
			ON CONFLICT(aor, contact) DO UPDATE SET expires = excluded.expires, data = excluded.data`,
			b.AOR, b.Contact, b.Expires.UnixMilli(), string(data)); err != nil {
			return fmt.Errorf("save bindings: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM bindings WHERE expires <= ?", time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("save bindings: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save bindings: %w", err)
	}
	return nil
}
