package auth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// DevelopmentSecret is used when neither secret nor JWKS is configured in
// development; exported so `partners token` and tests share it. It must never
// be used in production.
const DevelopmentSecret = "partners-development-secret-do-not-use-in-production"

const (
	// MinSecretLength is the minimum HS256 secret length in bytes (RFC 7518
	// section 3.2: a key of the same size as the hash output, 256 bits).
	MinSecretLength = 32
	// MaxTokenLength bounds the raw token size; longer tokens are refused
	// before any parsing.
	MaxTokenLength = 8 << 10
	// Leeway is the clock skew tolerated on exp and nbf.
	Leeway = 30 * time.Second
	// MinRSAKeyBits is the smallest RSA modulus accepted from the JWKS.
	MinRSAKeyBits = 2048
)

const (
	jwksTimeout         = 10 * time.Second // per JWKS HTTP request
	jwksRefreshInterval = time.Hour        // background refresh period
	jwksMaxBodyBytes    = 1 << 20          // JWKS documents larger than this are refused
)

// ErrInvalidToken is wrapped by every verification failure. The wrapping
// error carries a short reason and never contains the token.
var ErrInvalidToken = errors.New("invalid token")

// Internal keyfunc failures, mapped to reasons by [Verifier.Verify].
var (
	errAlgNotAccepted = errors.New("algorithm not accepted")
	errNoKey          = errors.New("no matching verification key")
)

// Config configures a [Verifier]. At least one of Secret and JWKSURL must be
// set. Each key source enables only its own algorithms: Secret enables HS256,
// JWKSURL enables RS256 and ES256.
type Config struct {
	Secret     []byte           // HS256 shared secret; nil/empty = HS256 disabled
	JWKSURL    string           // RS256/ES256 keys; "" = disabled
	Issuer     string           // "" = not checked
	Audience   string           // "" = not checked
	HTTPClient *http.Client     // optional, for JWKS fetching
	Now        func() time.Time // optional clock for tests

	// AssumeEmailVerified reads a token without "email_verified" as
	// verified, for an identity provider that only issues verified emails
	// and omits the claim (PARTNERS_JWT_EMAIL_VERIFIED=assume). Otherwise
	// only "email_verified": true vouches for the email.
	AssumeEmailVerified bool
}

// String describes the configuration without revealing the secret, so that
// a Config printed with %v or %+v does not leak it.
func (c Config) String() string {
	secret := "unset"
	if len(c.Secret) > 0 {
		secret = "set"
	}
	return fmt.Sprintf("auth.Config{Secret: %s, JWKSURL: %q, Issuer: %q, Audience: %q, AssumeEmailVerified: %t}",
		secret, c.JWKSURL, c.Issuer, c.Audience, c.AssumeEmailVerified)
}

// GoString is like String, for %#v.
func (c Config) GoString() string { return c.String() }

// Verifier verifies bearer tokens. It is safe for concurrent use.
type Verifier struct {
	secret   []byte          // HS256 key; nil when HS256 is disabled
	jwks     keyfunc.Keyfunc // RS256/ES256 keys; nil when disabled
	methods  []string        // accepted "alg" values, derived from the key sources
	issuer   string
	audience string
	// assumeVerified is what an absent "email_verified" reads as.
	assumeVerified bool
	parser         *jwt.Parser
	// stop ends the JWKS refresh goroutine. It is only called when
	// NewVerifier fails; otherwise the goroutine lives as long as the ctx
	// given to NewVerifier.
	stop context.CancelFunc
}

// NewVerifier builds a Verifier from cfg. It fails when neither a secret nor
// a JWKS URL is configured, when the secret is shorter than
// [MinSecretLength], when the JWKS URL is not https (plain http is allowed
// only for loopback hosts), or when the first JWKS fetch fails — so that a
// misconfigured key source is caught at startup rather than on the first
// request.
//
// With a JWKS URL the keys are refreshed in the background every hour, and
// on demand (rate limited) when a token names an unknown key id; the refresh
// stops when ctx is done. Every JWKS request is bounded by a timeout and by a
// maximum response size.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	if ctx == nil {
		return nil, errors.New("auth: nil context")
	}
	v := &Verifier{issuer: cfg.Issuer, audience: cfg.Audience, assumeVerified: cfg.AssumeEmailVerified}

	if len(cfg.Secret) > 0 {
		if err := checkSecret(cfg.Secret); err != nil {
			return nil, err
		}
		v.secret = bytes.Clone(cfg.Secret)
		v.methods = append(v.methods, jwt.SigningMethodHS256.Alg())
	}

	if cfg.JWKSURL != "" {
		if err := checkJWKSURL(cfg.JWKSURL); err != nil {
			return nil, err
		}
		jctx, stop := context.WithCancel(ctx)
		v.stop = stop
		noErrorOnFirstFetch := false
		kf, err := keyfunc.NewDefaultOverrideCtx(jctx, []string{cfg.JWKSURL}, keyfunc.Override{
			Client:                    jwksHTTPClient(cfg.HTTPClient),
			HTTPTimeout:               jwksTimeout,
			NoErrorReturnFirstHTTPReq: &noErrorOnFirstFetch,
			// Bounds both the wait for the unknown-kid refresh rate limiter
			// and that refresh itself; when the limiter would make a request
			// wait longer, it fails at once instead of blocking.
			RateLimitWaitMax: jwksTimeout,
			RefreshInterval:  jwksRefreshInterval,
		})
		if err != nil {
			stop()
			return nil, fmt.Errorf("auth: JWKS %s: %w", cfg.JWKSURL, err)
		}
		v.jwks = kf
		v.methods = append(v.methods, jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg())
	}

	if len(v.methods) == 0 {
		return nil, errors.New("auth: no key source configured: set a secret and/or a JWKS URL")
	}

	opts := []jwt.ParserOption{
		jwt.WithValidMethods(v.methods),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(Leeway),
		jwt.WithStrictDecoding(),
	}
	if cfg.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(cfg.Now))
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// String describes the verifier by the algorithms it accepts; it never
// reveals key material, even when a *Verifier is printed with %v or %+v.
func (v *Verifier) String() string {
	if v == nil {
		return "auth.Verifier(nil)"
	}
	return "auth.Verifier{algs: " + strings.Join(v.methods, ",") + "}"
}

// GoString is like String, for %#v.
func (v *Verifier) GoString() string { return v.String() }

// Verify checks raw (the token without the "Bearer " prefix) and returns the
// principal it authenticates. Every failure wraps [ErrInvalidToken] with a
// short reason; the token itself is never part of the error.
func (v *Verifier) Verify(raw string) (Principal, error) {
	if v == nil || v.parser == nil {
		return Principal{}, invalid("verifier not configured")
	}
	if raw == "" {
		return Principal{}, invalid("empty token")
	}
	if len(raw) > MaxTokenLength {
		return Principal{}, invalid(fmt.Sprintf("token longer than %d bytes", MaxTokenLength))
	}

	var c tokenClaims
	tok, err := v.parser.ParseWithClaims(raw, &c, v.keyFunc)
	if err != nil {
		return Principal{}, invalid(v.reason(tok, &c, err))
	}
	if !tok.Valid { // defensive: the parser reports failures as errors
		return Principal{}, invalid("verification failed")
	}
	if err := checkSubject(c.Subject); err != nil {
		return Principal{}, invalid(err.Error())
	}

	p := Principal{
		Subject:       c.Subject,
		Email:         NormalizeEmail(c.Email),
		EmailVerified: v.emailVerified(c.EmailVerified),
		Name:          c.Name,
	}
	if scopes := strings.Fields(c.Scope); len(scopes) > 0 {
		p.Scopes = scopes
	}
	if c.IssuedAt != nil {
		p.IssuedAt = c.IssuedAt.UTC()
	}
	return p, nil
}

// emailVerified reads the "email_verified" claim. An email addresses
// invitations and memberships, so a provider's silence does not vouch for
// it unless the operator said this provider only issues verified emails.
func (v *Verifier) emailVerified(claim *bool) bool {
	if claim == nil {
		return v.assumeVerified
	}
	return *claim
}

// NormalizeEmail returns email trimmed of surrounding whitespace with A to Z
// lower-cased, the form in which [Principal.Email] is exposed. Only ASCII is
// folded: Unicode case mapping turns look-alikes into another person's
// address (the Kelvin sign lower-cases to "k"), which domain.ParseEmail must
// see, and refuse.
func NormalizeEmail(email string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, strings.TrimSpace(email))
}

// keyFunc dispatches on the token's algorithm, so that each algorithm is only
// ever verified with keys from its own source.
func (v *Verifier) keyFunc(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	switch alg {
	case jwt.SigningMethodHS256.Alg():
		if len(v.secret) == 0 {
			return nil, errAlgNotAccepted
		}
		return v.secret, nil
	case jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg():
		if v.jwks == nil {
			return nil, errAlgNotAccepted
		}
		key, err := v.jwks.Keyfunc(t)
		if err != nil {
			return nil, errNoKey
		}
		return keysFor(alg, key)
	default:
		return nil, errAlgNotAccepted
	}
}

// keysFor keeps only the keys that fit alg: an RSA public key of at least
// MinRSAKeyBits for RS256, a P-256 public key for ES256. Anything else the
// JWKS may hold (symmetric "oct" keys in particular) is never used.
func keysFor(alg string, key any) (any, error) {
	if set, ok := key.(jwt.VerificationKeySet); ok {
		var keep jwt.VerificationKeySet
		for _, k := range set.Keys {
			if keyFits(alg, k) {
				keep.Keys = append(keep.Keys, k)
			}
		}
		if len(keep.Keys) == 0 {
			return nil, errNoKey
		}
		return keep, nil
	}
	if !keyFits(alg, key) {
		return nil, errNoKey
	}
	return key, nil
}

func keyFits(alg string, key any) bool {
	switch alg {
	case jwt.SigningMethodRS256.Alg():
		k, ok := key.(*rsa.PublicKey)
		return ok && k.N != nil && k.N.BitLen() >= MinRSAKeyBits
	case jwt.SigningMethodES256.Alg():
		k, ok := key.(*ecdsa.PublicKey)
		return ok && k.Curve != nil && k.Curve.Params().Name == "P-256"
	}
	return false
}

// reason turns a parser error into a short, token-free explanation.
func (v *Verifier) reason(tok *jwt.Token, c *tokenClaims, err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case errors.Is(err, errAlgNotAccepted),
		tok != nil && (tok.Method == nil || !slices.Contains(v.methods, tok.Method.Alg())):
		return "algorithm not accepted"
	case errors.Is(err, errNoKey):
		return "no matching verification key"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "signature invalid"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "token unverifiable"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		switch {
		case c.ExpiresAt == nil:
			return "missing exp"
		case v.issuer != "" && c.Issuer == "":
			return "missing iss"
		case v.audience != "" && len(c.Audience) == 0:
			return "missing aud"
		}
		return "missing required claim"
	case errors.Is(err, jwt.ErrInvalidType):
		return "claim has wrong type"
	}
	return "verification failed"
}

func invalid(reason string) error {
	return fmt.Errorf("%w: %s", ErrInvalidToken, reason)
}

func checkSecret(secret []byte) error {
	if len(secret) < MinSecretLength {
		return fmt.Errorf("auth: HS256 secret must be at least %d bytes", MinSecretLength)
	}
	return nil
}

// checkJWKSURL requires an absolute https URL; plain http is tolerated only
// for loopback hosts (local development and tests).
func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("auth: JWKS URL %q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("auth: JWKS URL %q must use https", raw)
	}
	return fmt.Errorf("auth: JWKS URL %q must use https", raw)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// jwksHTTPClient returns a copy of base (or a fresh client) that always has a
// timeout and refuses JWKS responses larger than jwksMaxBodyBytes.
func jwksHTTPClient(base *http.Client) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	if c.Timeout <= 0 {
		c.Timeout = jwksTimeout
	}
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = maxBodyTransport{next: next, max: jwksMaxBodyBytes}
	return c
}

type maxBodyTransport struct {
	next http.RoundTripper
	max  int64
}

func (t maxBodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	// Reads past max fail with *http.MaxBytesError, so a truncated document
	// is never mistaken for a complete one. (MaxBytesReader tolerates a nil
	// ResponseWriter.)
	resp.Body = http.MaxBytesReader(nil, resp.Body, t.max)
	return resp, nil
}
