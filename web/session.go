package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"partners/domain"
)

// session is what the server keeps of one browser. The cookie holds only
// a random id; the row is keyed by its hash.
type session struct {
	id    string // the cookie's value; never stored
	dirty bool
	fresh bool // not yet in the table
	sessionData
	ExpiresAt time.Time
}

// sessionData is the session's jsonb column.
type sessionData struct {
	UserID        string `json:"user_id,omitempty"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified,omitempty"`
	// VerifiedExplicitly: the provider said email_verified: true (not
	// assumed); only such an email opens the operator console.
	VerifiedExplicitly bool      `json:"verified_explicitly,omitempty"`
	TokenIssuedAt      time.Time `json:"token_issued_at,omitzero"`
	Name               string    `json:"name,omitempty"`
	// Operator: the sign-in claimed the partners:admin scope (the
	// development form's "operator" box makes the same claim).
	Operator bool   `json:"operator,omitempty"`
	CSRF     string `json:"csrf"`
	// Link is the token a landing page took out of its URL, and its kind.
	LinkKind  string `json:"link_kind,omitempty"`
	LinkToken string `json:"link_token,omitempty"`
	// The OpenID Connect round trip in flight.
	State    string `json:"state,omitempty"`
	Verifier string `json:"verifier,omitempty"`
	Nonce    string `json:"nonce,omitempty"`
	// Org is the organization last chosen in the switcher.
	Org uuid.UUID `json:"org,omitempty"`
	// Position is the last command's event position: the next page waits
	// for the read models to reach it.
	Position int64  `json:"position,omitempty"`
	Flash    string `json:"flash,omitempty"`
	FlashArg string `json:"flash_arg,omitempty"`
	Error    string `json:"error,omitempty"`
}

func (s *session) signedIn() bool { return s.UserID != "" }

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashID(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

const keySession = "web_session"

func sessionOf(c *gin.Context) *session {
	s, _ := c.Get(keySession)
	return s.(*session)
}

// loadSession finds the cookie's session, or starts an anonymous one (in
// memory only until something is written to it). An expired row counts as
// none.
func (w *Web) loadSession(c *gin.Context) {
	if cookie, err := c.Request.Cookie(w.cookieName); err == nil && cookie.Value != "" && len(cookie.Value) < 100 {
		var data []byte
		var expires time.Time
		err := w.cfg.Pool.QueryRow(c.Request.Context(),
			`SELECT data, expires_at FROM web_sessions WHERE id_hash = $1 AND expires_at > $2`, hashID(cookie.Value), w.now()).Scan(&data, &expires)
		if err == nil {
			s := &session{id: cookie.Value, ExpiresAt: expires}
			if w.openSession(data, &s.sessionData) == nil {
				c.Set(keySession, s)
				return
			}
		} else if !errors.Is(err, pgx.ErrNoRows) {
			w.fail(c, err)
			c.Abort()
			return
		}
	}
	c.Set(keySession, w.newSession(w.cfg.AnonymousTTL))
}

func (w *Web) newSession(ttl time.Duration) *session {
	return &session{id: randomString(32), fresh: true, dirty: true, ExpiresAt: w.now().Add(ttl),
		sessionData: sessionData{CSRF: randomString(32)}}
}

// save writes the session when it changed, and (re)sets its cookie. It
// prunes a bounded batch of expired rows on each new session, so the table
// keeps itself small without a loop of its own.
func (w *Web) save(c *gin.Context, s *session) error {
	if !s.dirty {
		return nil
	}
	data, err := w.sealSession(s.sessionData)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	var userID *string
	ref := ""
	if s.UserID != "" {
		userID = &s.UserID
		if e, err := domain.ParseEmail(s.Email); err == nil {
			ref = string(w.cfg.App.Store.Keys().Ref(e.String()))
		}
	}
	if s.fresh {
		_, err = w.cfg.Pool.Exec(ctx, `WITH pruned AS (
			DELETE FROM web_sessions WHERE id_hash IN (SELECT id_hash FROM web_sessions WHERE expires_at <= $6 LIMIT 100))
			INSERT INTO web_sessions (id_hash, user_id, email_ref, data, created_at, expires_at) VALUES ($1, $2, $3, $4, $6, $5)`,
			hashID(s.id), userID, ref, data, s.ExpiresAt, w.now())
	} else {
		_, err = w.cfg.Pool.Exec(ctx, `UPDATE web_sessions SET user_id = $2, email_ref = $3, data = $4 WHERE id_hash = $1`,
			hashID(s.id), userID, ref, data)
	}
	if err != nil {
		return err
	}
	s.fresh, s.dirty = false, false
	http.SetCookie(c.Writer, &http.Cookie{Name: w.cookieName, Value: s.id, Path: "/", Expires: s.ExpiresAt,
		HttpOnly: true, Secure: w.secure, SameSite: http.SameSiteLaxMode})
	return nil
}

// rotate gives the session a new id and CSRF token at sign-in, so that an
// id planted before (session fixation) opens nothing afterwards. The link
// a landing page kept travels on; the old row is deleted.
func (w *Web) rotate(c *gin.Context, s *session) error {
	if !s.fresh {
		if _, err := w.cfg.Pool.Exec(c.Request.Context(), `DELETE FROM web_sessions WHERE id_hash = $1`, hashID(s.id)); err != nil {
			return err
		}
	}
	n := w.newSession(w.cfg.SessionTTL)
	s.id, s.fresh, s.dirty, s.ExpiresAt = n.id, true, true, n.ExpiresAt
	s.CSRF = n.CSRF
	s.State, s.Verifier, s.Nonce = "", "", ""
	return nil
}

// signOut ends this session, or every session of its user.
func (w *Web) signOut(c *gin.Context, s *session, everywhere bool) error {
	ctx := c.Request.Context()
	var err error
	if everywhere && s.UserID != "" {
		_, err = w.cfg.Pool.Exec(ctx, `DELETE FROM web_sessions WHERE user_id = $1`, s.UserID)
	} else {
		_, err = w.cfg.Pool.Exec(ctx, `DELETE FROM web_sessions WHERE id_hash = $1`, hashID(s.id))
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: w.cookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: w.secure, SameSite: http.SameSiteLaxMode})
	return err
}

// checkCSRF refuses a form whose token is not its session's: SameSite=Lax
// already keeps the cookie off cross-site POSTs, the token also covers
// same-site attackers and older browsers.
func (w *Web) checkCSRF(c *gin.Context) {
	if c.Request.Method != http.MethodPost {
		return
	}
	s := sessionOf(c)
	got := c.PostForm("csrf")
	if s.fresh || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) != 1 {
		w.errorPage(c, http.StatusForbidden, "error.csrf")
		c.Abort()
	}
}

// ForgetSessions deletes the sessions of a forgotten person (an app.Eraser).
func ForgetSessions(ctx context.Context, tx pgx.Tx, ref domain.PersonRef) error {
	_, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE email_ref = $1`, string(ref))
	return err
}

// sealedSession is how a session's data is stored: sealed under the data
// key, because it holds what a dump must not give away (the token of a
// link that is still open, a flash holding a link to pass on, the
// person's email and name).
type sealedSession struct {
	Sealed []byte `json:"sealed"`
}

func (w *Web) sealSession(d sessionData) ([]byte, error) {
	plain, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return json.Marshal(sealedSession{Sealed: w.cfg.App.Store.Keys().SealSecret(plain)})
}

// openSession reads a stored session; one that cannot be opened (another
// data key, a row written in clear) is no session.
func (w *Web) openSession(data []byte, d *sessionData) error {
	var sealed sealedSession
	if err := json.Unmarshal(data, &sealed); err != nil || len(sealed.Sealed) == 0 {
		return errors.New("web: session not sealed")
	}
	plain, err := w.cfg.App.Store.Keys().OpenSecret(sealed.Sealed)
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, d)
}
