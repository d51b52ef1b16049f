// Package pgtest gives each test package, or a single test that needs one,
// a database of its own on the real PostgreSQL server, migrated to the
// newest schema and dropped afterwards. It must never be imported by
// non-test code.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"partners/eventstore"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/migrations"
)

// ServerURL is the server tests use; PARTNERS_TEST_DATABASE_URL overrides it.
func ServerURL() string {
	if u := os.Getenv("PARTNERS_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

var pkgURL string

// Main creates the package's database, runs the tests and drops it.
func Main(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	url, drop, err := Create(ctx, packageName())
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		os.Exit(1)
	}
	pkgURL = url
	code := m.Run()
	drop()
	os.Exit(code)
}

// URL is the package database's URL (after Main).
func URL(t testing.TB) string {
	t.Helper()
	if pkgURL == "" {
		t.Fatal("pgtest.Main was not called from TestMain")
	}
	return pkgURL
}

// Pool opens a pool on the package database, closed at the end of the test.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return open(t, URL(t))
}

// Fresh creates a database for this test alone and opens a pool on it.
func Fresh(t testing.TB) (string, *pgxpool.Pool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url, drop, err := Create(ctx, packageName()+"_"+sanitize(t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	return url, open(t, url)
}

func open(t testing.TB, url string) *pgxpool.Pool {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 16
	eventstore.ConfigurePool(cfg)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Create makes and migrates a uniquely named database and returns its URL
// and a function that drops it.
func Create(ctx context.Context, hint string) (string, func(), error) {
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := "partners_test_" + sanitize(hint)
	if len(name) > 50 {
		name = name[:50]
	}
	name += "_" + hex.EncodeToString(suffix)
	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		return "", nil, fmt.Errorf("connect to the test server (is PostgreSQL running?): %w", err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u, _ := url.Parse(ServerURL())
	u.Path = "/" + name
	dbURL := u.String()
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, ServerURL())
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
	if err := migrations.Migrate(ctx, dbURL); err != nil {
		drop()
		return "", nil, err
	}
	return dbURL, drop, nil
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

func sanitize(s string) string {
	return strings.Trim(nonWord.ReplaceAllString(strings.ToLower(s), "_"), "_")
}

func packageName() string {
	wd, err := os.Getwd()
	if err != nil {
		return "pkg"
	}
	return filepath.Base(wd)
}

// Fresh2 is Fresh without the URL.
func Fresh2(t testing.TB) *pgxpool.Pool {
	_, p := Fresh(t)
	return p
}
