package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// Limit is how many requests a user and an IP may make per minute.
type Limit struct{ PerUser, PerIP int }

// Limits are the rate limits, per class of endpoint. Counters live in
// PostgreSQL, so they hold across replicas.
type Limits struct {
	// Invite: sending invitations (partners, colleagues, accountants,
	// collaborators) and resending them.
	Invite Limit
	// Token: presenting a link's token (preview, claim, accept, activate).
	Token Limit
	// FailedToken: tokens that opened nothing; beyond it, token endpoints
	// answer 429 for the rest of the minute.
	FailedToken Limit
	// Request: collaboration requests.
	Request Limit
	// Off disables rate limiting (benchmarks).
	Off bool
}

// DefaultLimits are generous for people and tight for scripts.
var DefaultLimits = Limits{
	Invite:      Limit{PerUser: 60, PerIP: 300},
	Token:       Limit{PerUser: 30, PerIP: 120},
	FailedToken: Limit{PerUser: 10, PerIP: 30},
	Request:     Limit{PerUser: 10, PerIP: 60},
}

// limitedRoutes says which routes are limited, and how.
var limitedRoutes = map[string]string{
	"POST /v1/organizations/:org/invitations":        "invite",
	"POST /v1/invitations/:id/resend":                "invite",
	"POST /v1/organizations/:org/member-invitations": "invite",
	"POST /v1/organizations/:org/accountants":        "invite",
	"POST /v1/organizations/:org/collaborators":      "invite",
	"POST /v1/invitations/preview":                   "token",
	"POST /v1/invitations/claim":                     "token",
	"POST /v1/member-invitations/:id/accept":         "token",
	"POST /v1/accountant-invitations/:id/accept":     "token",
	"POST /v1/collaborators/activate":                "token",
	"POST /v1/member-invitations/preview":            "token",
	"POST /v1/accountant-invitations/preview":        "token",
	"POST /v1/collaborators/preview":                 "token",
	"POST /v1/collaborator-invitations/:id/resend":   "invite",
	"POST /v1/collaboration-requests":                "request",
}

func (l Limits) of(class string) Limit {
	switch class {
	case "invite":
		return l.Invite
	case "token":
		return l.Token
	case "request":
		return l.Request
	}
	return Limit{}
}

// rateLimit counts the request against the caller's and the address's
// limits for the minute, answering 429 with Retry-After beyond them.
func (s *Server) rateLimit(c *gin.Context) {
	class, ok := limitedRoutes[c.Request.Method+" "+c.FullPath()]
	if !ok || s.cfg.Limits.Off {
		c.Next()
		return
	}
	p, _ := principalOf(c)
	ip := c.ClientIP()
	ctx := c.Request.Context()
	if class == "token" {
		// A caller who keeps presenting tokens that open nothing is guessing.
		over, retry, err := s.overLimit(ctx, "failed-token", p.Subject, ip, s.cfg.Limits.FailedToken, false)
		if err != nil {
			writeProblem(c, err)
			return
		}
		if over {
			tooMany(c, retry, "Too many invalid links were tried. Wait a minute and try again.")
			return
		}
	}
	over, retry, err := s.overLimit(ctx, class, p.Subject, ip, s.cfg.Limits.of(class), true)
	if err != nil {
		writeProblem(c, err)
		return
	}
	if over {
		tooMany(c, retry, "Too many requests of this kind. Wait a minute and try again.")
		return
	}
	c.Next()
	if class == "token" && c.Writer.Status() == http.StatusNotFound {
		if _, _, err := s.overLimit(context.WithoutCancel(ctx), "failed-token", p.Subject, ip, s.cfg.Limits.FailedToken, true); err != nil {
			s.cfg.Log.Warn("failed-token counter not updated", "err", err)
		}
	}
}

func tooMany(c *gin.Context, retry time.Duration, detail string) {
	c.Header("Retry-After", strconv.Itoa(max(1, int(retry.Seconds()+0.999))))
	writeProblem(c, edge(codeRateLimited, detail))
}

// overLimit counts (when count is true) or reads the current minute's
// counters of a user and an address, and says whether either is beyond its
// limit, and how long until the window ends.
func (s *Server) overLimit(ctx context.Context, class, user, ip string, lim Limit, count bool) (bool, time.Duration, error) {
	keys := []string{}
	limits := []int{}
	if user != "" && lim.PerUser > 0 {
		keys, limits = append(keys, class+":user:"+user), append(limits, lim.PerUser)
	}
	if ip != "" && lim.PerIP > 0 {
		keys, limits = append(keys, class+":ip:"+ip), append(limits, lim.PerIP)
	}
	if len(keys) == 0 {
		return false, 0, nil
	}
	q := `SELECT k, coalesce((SELECT count FROM rate_limits WHERE key = k AND window_end = date_trunc('minute', now()) + interval '1 minute'), 0),
		extract(epoch FROM (date_trunc('minute', now()) + interval '1 minute' - now()))::float8
		FROM unnest($1::text[]) AS k`
	if count {
		q = `INSERT INTO rate_limits (key, window_end, count)
			SELECT k, date_trunc('minute', now()) + interval '1 minute', 1 FROM unnest($1::text[]) AS k
			ON CONFLICT (key, window_end) DO UPDATE SET count = rate_limits.count + 1
			RETURNING key, count, extract(epoch FROM (window_end - now()))::float8`
	}
	rows, err := s.cfg.Pool.Query(ctx, q, keys)
	if err != nil {
		return false, 0, err
	}
	defer rows.Close()
	over := false
	var retry time.Duration
	for rows.Next() {
		var key string
		var n int
		var secs float64
		if err := rows.Scan(&key, &n, &secs); err != nil {
			return false, 0, err
		}
		retry = time.Duration(secs * float64(time.Second))
		for i, k := range keys {
			// Counting, this request is the n-th; reading, n were already
			// made and the next would be the (n+1)-th.
			if k == key && (n > limits[i] || (!count && n >= limits[i])) {
				over = true
			}
		}
	}
	return over, retry, rows.Err()
}
