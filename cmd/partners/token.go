package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"partners/api/auth"
)

// token prints a JWT signed with the configured HS256 secret, so a newcomer
// can call the API at once.
func token(cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sub := fs.String("sub", "", "user id (the token's sub)")
	email := fs.String("email", "", "email, marked verified (email_verified: true)")
	name := fs.String("name", "", "display name")
	admin := fs.Bool("admin", false, "grant the partners:admin scope")
	ttl := fs.Duration("ttl", 24*time.Hour, "lifetime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *sub == "" {
		return errors.New("token: --sub is required")
	}
	if cfg.JWTSecret == "" {
		return errors.New("token: no HS256 secret is configured (PARTNERS_JWT_SECRET); with JWKS, tokens come from your identity provider")
	}
	// The service addresses people only by verified emails; a token from
	// this command stands for one an identity provider would have issued.
	verified := true
	spec := auth.TokenSpec{Subject: *sub, Email: *email, EmailVerified: &verified, Name: *name, TTL: *ttl,
		Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience}
	if *admin {
		spec.Scopes = []string{auth.ScopeAdmin}
	}
	t, err := auth.SignHS256([]byte(cfg.JWTSecret), spec, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, t)
	return nil
}
