package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"partners/eventstore"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/migrations"
)

// scratchDB is a database the harness creates on the server, migrates to
// the service's schema (same tables, indexes, constraints and triggers as
// production) and drops at the end, so a run never touches real data.
type scratchDB struct {
	Name string
	URL  string
	drop func()
}

// Drop removes the database (connections are forced out).
func (s *scratchDB) Drop() {
	if s != nil && s.drop != nil {
		s.drop()
		s.drop = nil
	}
}

// createScratch makes and migrates a database named partners_bench_<hint>_<random>
// on the server of serverURL.
func createScratch(ctx context.Context, serverURL, hint string) (*scratchDB, error) {
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := "partners_bench_" + hint + "_" + hex.EncodeToString(suffix)
	admin, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", redact(serverURL), err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u, _ := url.Parse(serverURL)
	u.Path = "/" + name
	db := &scratchDB{Name: name, URL: u.String()}
	db.drop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, serverURL)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
	if err := migrations.Migrate(ctx, db.URL); err != nil {
		db.Drop()
		return nil, err
	}
	return db, nil
}

// withDatabase returns serverURL naming another database.
func withDatabase(serverURL, name string) string {
	u, err := url.Parse(serverURL)
	if err != nil {
		return serverURL
	}
	u.Path = "/" + name
	return u.String()
}

// openPool opens a pool of at most n connections.
func openPool(ctx context.Context, dbURL string, n int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = n
	cfg.MinConns = 0
	eventstore.ConfigurePool(cfg)
	return pgxpool.NewWithConfig(ctx, cfg)
}

// loopbackOnly refuses any address that is not this machine: the harness
// sends load, and load goes nowhere else.
func loopbackOnly(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	host := u.Hostname()
	if host == "" && strings.HasPrefix(u.Scheme, "postgres") {
		return errors.New(what + ": name the host (127.0.0.1)")
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s: %q is not a loopback address; the harness only sends traffic to 127.0.0.1", what, host)
}

// redact hides a password in a database URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(database url)"
	}
	return u.Redacted()
}
