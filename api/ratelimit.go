package api

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// Limit is how many requests a user, an organization and an address may
// make per minute (0: no limit of that kind). Authenticated calls count
// against their user (and, for commands acting for an organization, against
// it); anonymous ones against their address, an IPv6 address by its /64.
type Limit struct{ PerUser, PerOrg, PerIP int }

// Limits are the rate limits, per class of endpoint. Counters live in
// PostgreSQL, so they hold across replicas.
type Limits struct {
	// Invite: sending invitations of every kind (partners, colleagues,
	// accountants, collaborators) and resending them.
	Invite Limit
	// Create: creating organizations and portal users.
	Create Limit
	// Share: showing contracts in the portal and adding watchers (each
	// sends email).
	Share Limit
	// Token: presenting a link's token (preview, claim, accept, activate).
	Token Limit
	// FailedToken: tokens that opened nothing; beyond it, token endpoints
	// answer 429 for the rest of the minute.
	FailedToken Limit
	// Request: collaboration requests.
	Request Limit
	// MailPerOrgHour is each organization's outbound email budget per
	// hour: the emails its own commands cause. A command that would go
	// beyond it is refused (429) before it runs; emails of accepted
	// commands are always sent, and commands of others that notify the
	// organization are never refused for its budget.
	MailPerOrgHour int
	// Heavy bounds the audit exports and as-of replays running at once.
	Heavy Concurrent
	// Waits bounds the min_position waits running at once (per user only:
	// a wait comes before the membership check).
	Waits Concurrent
	// Off disables rate limits and concurrency bounds (benchmarks); the
	// heavy pool's own size still applies.
	Off bool
}

// DefaultLimits are generous for people and tight for scripts.
var DefaultLimits = Limits{
	Invite:         Limit{PerUser: 60, PerOrg: 120, PerIP: 300},
	Create:         Limit{PerUser: 30, PerOrg: 120, PerIP: 300},
	Share:          Limit{PerUser: 60, PerOrg: 120, PerIP: 300},
	Token:          Limit{PerUser: 30, PerIP: 120},
	FailedToken:    Limit{PerUser: 10, PerIP: 30},
	Request:        Limit{PerUser: 10, PerIP: 60},
	MailPerOrgHour: 500,
	Heavy:          Concurrent{PerUser: 2, PerOrg: 4},
	Waits:          Concurrent{PerUser: 16},
}

// limited is how a route is limited.
type limited struct {
	class string
	// mail estimates, from the body, how many emails the command sends for
	// its organization (0: none); they count against MailPerOrgHour.
	mail func(body []byte) int
	// org finds the organization a command acts for when its path does not
	// name it (nil: the path's :org, if any).
	org func(s *Server, c *gin.Context) (uuid.UUID, bool)
}

func oneMail([]byte) int { return 1 }

// contractMails counts the requester and every watcher a contract's
// showing names: each may get an email (an upper bound: only those new to
// the contract do).
func contractMails(body []byte) int {
	var req struct {
		WatcherIDs []json.RawMessage `json:"watcher_ids"`
	}
	_ = json.Unmarshal(body, &req)
	return 1 + len(req.WatcherIDs)
}

// limitedRoutes says which routes are limited, and how. Routes listed here
// that the router does not have are inert.
var limitedRoutes = map[string]limited{
	"POST /v1/organizations":                                      {class: "create"},
	"POST /v1/organizations/:org/portal-users":                    {class: "create"},
	"POST /v1/organizations/:org/invitations":                     {class: "invite", mail: oneMail},
	"POST /v1/invitations/:id/resend":                             {class: "invite", mail: oneMail, org: invitationOrg},
	"POST /v1/organizations/:org/member-invitations":              {class: "invite", mail: oneMail},
	"POST /v1/organizations/:org/accountants":                     {class: "invite", mail: oneMail},
	"POST /v1/organizations/:org/collaborators":                   {class: "invite", mail: oneMail},
	"POST /v1/collaborator-invitations/:id/resend":                {class: "invite", mail: oneMail, org: collaboratorInvitationOrg},
	"PUT /v1/organizations/:org/contracts/:contract_id/portal":    {class: "share", mail: contractMails},
	"POST /v1/organizations/:org/contracts/:contract_id/watchers": {class: "share", mail: oneMail},
	"POST /v1/invitations/preview":                                {class: "token"},
	"POST /v1/member-invitations/preview":                         {class: "token"},
	"POST /v1/accountant-invitations/preview":                     {class: "token"},
	"POST /v1/collaborators/preview":                              {class: "token"},
	"POST /v1/invitations/claim":                                  {class: "token"},
	"POST /v1/member-invitations/:id/accept":                      {class: "token"},
	"POST /v1/accountant-invitations/:id/accept":                  {class: "token"},
	"POST /v1/collaborators/activate":                             {class: "token"},
	"POST /v1/collaboration-requests":                             {class: "request"},
}

// invitationOrg is the inviting organization of the path's partner
// invitation.
func invitationOrg(s *Server, c *gin.Context) (uuid.UUID, bool) {
	id, err := pathUUID(c, "id", "invitation")
	if err != nil {
		return uuid.Nil, false
	}
	org, ok, err := s.cfg.App.InvitationOrganization(c.Request.Context(), id)
	return org, ok && err == nil
}

// collaboratorInvitationOrg is the organization of the path's collaborator
// invitation.
func collaboratorInvitationOrg(s *Server, c *gin.Context) (uuid.UUID, bool) {
	id, err := pathUUID(c, "id", "invitation")
	if err != nil {
		return uuid.Nil, false
	}
	org, ok, err := s.cfg.App.CollaboratorInvitationOrganization(c.Request.Context(), id)
	return org, ok && err == nil
}

func (l Limits) of(class string) Limit {
	switch class {
	case "invite":
		return l.Invite
	case "create":
		return l.Create
	case "share":
		return l.Share
	case "token":
		return l.Token
	case "request":
		return l.Request
	}
	return Limit{}
}

// caller is who a request counts against: the user when authenticated,
// else the address (an IPv6 address by its /64, which one subscriber
// usually holds whole).
func caller(c *gin.Context) (user, addr string) {
	if p, ok := principalOf(c); ok {
		return p.Subject, ""
	}
	return "", addressKey(c.ClientIP())
}

// addressKey is the rate-limit key of an address: IPv4 as is, IPv6 by its
// /64 prefix.
func addressKey(ip string) string {
	a := net.ParseIP(ip)
	if a == nil {
		return ip
	}
	if v4 := a.To4(); v4 != nil {
		return v4.String()
	}
	return (&net.IPNet{IP: a.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}

// rateLimit counts the request against the caller's limits for the minute,
// answering 429 with Retry-After beyond them. Organizations' limits and
// email budgets are the command frame's (admit), which counts only the
// commands that ran.
func (s *Server) rateLimit(c *gin.Context) {
	rt, ok := limitedRoutes[c.Request.Method+" "+c.FullPath()]
	if !ok || s.cfg.Limits.Off {
		c.Next()
		return
	}
	user, addr := caller(c)
	ctx := c.Request.Context()
	if rt.class == "token" {
		// A caller who keeps presenting tokens that open nothing is guessing.
		over, retry, err := s.overLimit(ctx, "failed-token", user, addr, uuid.Nil, s.cfg.Limits.FailedToken, false)
		if err != nil {
			writeProblem(c, err)
			return
		}
		if over {
			tooMany(c, retry, "Too many invalid links were tried. Wait a minute and try again.")
			return
		}
	}
	over, retry, err := s.overLimit(ctx, rt.class, user, addr, uuid.Nil, s.cfg.Limits.of(rt.class), true)
	if err != nil {
		writeProblem(c, err)
		return
	}
	if over {
		tooMany(c, retry, "Too many requests of this kind. Wait a minute and try again.")
		return
	}
	c.Next()
	if rt.class == "token" && c.Writer.Status() == http.StatusNotFound {
		if _, _, err := s.overLimit(context.WithoutCancel(ctx), "failed-token", user, addr, uuid.Nil, s.cfg.Limits.FailedToken, true); err != nil {
			s.cfg.Log.Warn("failed-token counter not updated", "err", err)
		}
	}
}

func tooMany(c *gin.Context, retry time.Duration, detail string) {
	writeProblem(c, refused(c, retry, detail))
}

// refused is the 429 of a limit reached, advising to retry when its window
// ends.
func refused(c *gin.Context, retry time.Duration, detail string) error {
	c.Header("Retry-After", strconv.Itoa(max(1, int(retry.Seconds()+0.999))))
	return edge(codeRateLimited, detail)
}

// admission is a command admitted within its organization's limits: spend
// counts it once it ran.
type admission struct {
	class string
	org   uuid.UUID
	mails int
}

// admit checks, before a command runs, its organization's limit for the
// minute and email budget for the hour (429 with Retry-After beyond). It
// only reads the counters: a command counts once it ran (spend), so that
// nobody can spend an organization's allowance with commands it refuses.
func (s *Server) admit(c *gin.Context, body []byte) (admission, error) {
	rt, ok := limitedRoutes[c.Request.Method+" "+c.FullPath()]
	if !ok || s.cfg.Limits.Off {
		return admission{}, nil
	}
	a := admission{class: rt.class}
	if rt.org != nil {
		a.org, _ = rt.org(s, c)
	} else if id, err := uuid.Parse(c.Param("org")); err == nil {
		a.org = id
	}
	if a.org == uuid.Nil {
		return admission{}, nil
	}
	var mails int
	if rt.mail != nil {
		mails = rt.mail(body)
	}
	a, retry, detail, err := s.admitOrg(c.Request.Context(), rt.class, a.org, mails)
	if err == nil && detail != "" {
		err = refused(c, retry, detail)
	}
	return a, err
}

// admitOrg reads the organization's counter of the class for the minute
// and, for a command sending mails, its email budget for the hour: detail
// says why it is refused (empty: admitted), retry when to try again.
func (s *Server) admitOrg(ctx context.Context, class string, org uuid.UUID, mails int) (a admission, retry time.Duration, detail string, err error) {
	a = admission{class: class, org: org}
	over, retry, err := s.overLimit(ctx, class, "", "", org, Limit{PerOrg: s.cfg.Limits.of(class).PerOrg}, false)
	if err != nil {
		return admission{}, 0, "", err
	}
	if over {
		return admission{}, retry, "Your organization made too many requests of this kind. Wait a minute and try again.", nil
	}
	if mails > 0 && s.cfg.Limits.MailPerOrgHour > 0 {
		a.mails = mails
		sent, retry, err := s.mailsSent(ctx, org)
		if err != nil {
			return admission{}, 0, "", err
		}
		if sent+mails > s.cfg.Limits.MailPerOrgHour {
			return admission{}, retry, "Your organization reached its hourly email budget (" + strconv.Itoa(s.cfg.Limits.MailPerOrgHour) +
				" emails). Wait until the next hour and try again.", nil
		}
	}
	return a, 0, "", nil
}

// spend counts a command that ran against its organization's limit and
// email budget.
func (s *Server) spend(ctx context.Context, a admission) {
	if a.org == uuid.Nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if _, _, err := s.overLimit(ctx, a.class, "", "", a.org, Limit{PerOrg: 1}, true); err != nil {
		s.cfg.Log.Warn("organization rate counter not updated", "err", err)
	}
	if a.mails > 0 {
		_, err := s.cfg.Pool.Exec(ctx, `INSERT INTO rate_limits (key, window_end, count)
			VALUES ($1, date_trunc('hour', now()) + interval '1 hour', $2)
			ON CONFLICT (key, window_end) DO UPDATE SET count = rate_limits.count + $2`, mailKey(a.org), a.mails)
		if err != nil {
			s.cfg.Log.Warn("email budget not updated", "err", err)
		}
	}
}

func mailKey(org uuid.UUID) string { return "mail:org:" + org.String() }

// mailsSent is how many emails the organization's commands caused this
// hour, and how long until the hour ends.
func (s *Server) mailsSent(ctx context.Context, org uuid.UUID) (int, time.Duration, error) {
	var n int
	var secs float64
	err := s.cfg.Pool.QueryRow(ctx, `SELECT coalesce((SELECT count FROM rate_limits WHERE key = $1 AND window_end = date_trunc('hour', now()) + interval '1 hour'), 0),
		extract(epoch FROM (date_trunc('hour', now()) + interval '1 hour' - now()))::float8`, mailKey(org)).Scan(&n, &secs)
	return n, time.Duration(secs * float64(time.Second)), err
}

// overLimit counts (when count is true) or reads the current minute's
// counters of a user, an address and an organization, and says whether any
// is beyond its limit, and how long until the window ends.
func (s *Server) overLimit(ctx context.Context, class, user, addr string, org uuid.UUID, lim Limit, count bool) (bool, time.Duration, error) {
	keys := []string{}
	limits := []int{}
	if user != "" && lim.PerUser > 0 {
		keys, limits = append(keys, class+":user:"+user), append(limits, lim.PerUser)
	}
	if addr != "" && lim.PerIP > 0 {
		keys, limits = append(keys, class+":ip:"+addr), append(limits, lim.PerIP)
	}
	if org != uuid.Nil && lim.PerOrg > 0 {
		keys, limits = append(keys, class+":org:"+org.String()), append(limits, lim.PerOrg)
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
