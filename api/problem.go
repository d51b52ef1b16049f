package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgconn"

	"partners/domain"
)

// Problem is an RFC 9457 problem document with this service's extensions.
type Problem struct {
	Type    string              `json:"type"`
	Title   string              `json:"title"`
	Status  int                 `json:"status"`
	Detail  string              `json:"detail"`
	Code    string              `json:"code"`
	Errors  []domain.FieldError `json:"errors,omitempty"`
	Details map[string]any      `json:"details,omitempty"`
	Extra   map[string]any      `json:"-"`
}

// Codes the edge itself answers with (the domain has its own).
const (
	codeMalformed         = "malformed_request"
	codeUnauthorized      = "unauthorized"
	codeBodyTooLarge      = "body_too_large"
	codeRateLimited       = "rate_limited"
	codeProjectionBehind  = "projection_behind"
	codeUnavailable       = "unavailable"
	codeInternal          = "internal"
	codeRequestInProgress = "request_in_progress"
	codeRouteNotFound     = "route_not_found"
	codeClientClosed      = "client_closed_request"
	codeMethodNotAllowed  = "method_not_allowed"
	codeBusy              = "busy"
)

// statusOf is the one table that maps error codes to HTTP statuses.
var statusOf = map[string]int{
	string(domain.CodeValidationFailed):     http.StatusUnprocessableEntity,
	string(domain.CodeNotFound):             http.StatusNotFound,
	string(domain.CodeNotAllowed):           http.StatusForbidden,
	string(domain.CodeConcurrencyConflict):  http.StatusConflict,
	string(domain.CodeSameSide):             http.StatusUnprocessableEntity,
	string(domain.CodeOwnInvitation):        http.StatusUnprocessableEntity,
	string(domain.CodeInvitationAnswered):   http.StatusConflict,
	string(domain.CodeInvitationRevoked):    http.StatusConflict,
	string(domain.CodeInvitationExpired):    http.StatusGone,
	string(domain.CodeAlreadyPartners):      http.StatusConflict,
	string(domain.CodeDuplicatePending):     http.StatusConflict,
	string(domain.CodeAlreadyClaimed):       http.StatusConflict,
	string(domain.CodeLastOwner):            http.StatusConflict,
	string(domain.CodeCompanyMismatch):      http.StatusUnprocessableEntity,
	string(domain.CodeSiretTaken):           http.StatusConflict,
	string(domain.CodeAlreadyMember):        http.StatusConflict,
	string(domain.CodeInvalidToken):         http.StatusNotFound,
	string(domain.CodeIdempotencyKeyReused): http.StatusUnprocessableEntity,
	codeMalformed:                           http.StatusBadRequest,
	codeUnauthorized:                        http.StatusUnauthorized,
	codeBodyTooLarge:                        http.StatusRequestEntityTooLarge,
	codeRateLimited:                         http.StatusTooManyRequests,
	codeProjectionBehind:                    http.StatusServiceUnavailable,
	codeUnavailable:                         http.StatusServiceUnavailable,
	codeRequestInProgress:                   http.StatusConflict,
	codeRouteNotFound:                       http.StatusNotFound,
	codeMethodNotAllowed:                    http.StatusMethodNotAllowed,
	codeBusy:                                http.StatusServiceUnavailable,
	codeInternal:                            http.StatusInternalServerError,
	// Codes of the team and the portal (the same closed set).
	string(domain.CodeNotTeamMember):                http.StatusConflict,
	string(domain.CodeCollaborationRequestAnswered): http.StatusConflict,
	string(domain.CodePortalUserExists):             http.StatusConflict,
}

// titles are short, stable summaries per status.
func title(status int) string {
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error"
}

// edgeError is an error the edge raises itself, already coded.
type edgeError struct {
	code   string
	detail string
}

func (e *edgeError) Error() string { return e.code + ": " + e.detail }

func edge(code, detail string) error { return &edgeError{code: code, detail: detail} }

// writeProblem maps any error to a problem answer, once, here.
func writeProblem(c *gin.Context, err error) {
	p := problemOf(err)
	if p.Status >= 500 && p.Code == codeInternal {
		c.Error(err) //nolint:errcheck // logged by the request logger
	}
	c.Header("Content-Type", "application/problem+json")
	switch p.Code {
	case codeRateLimited, codeProjectionBehind, codeUnavailable:
		if c.Writer.Header().Get("Retry-After") == "" {
			c.Header("Retry-After", "1")
		}
	case codeBusy:
		if c.Writer.Header().Get("Retry-After") == "" {
			c.Header("Retry-After", strconv.Itoa(busyRetryAfter))
		}
	}
	c.AbortWithStatusJSON(p.Status, p)
}

func problemOf(err error) Problem {
	var de *domain.Error
	var ee *edgeError
	switch {
	case errors.As(err, &de) && statusOf[string(de.Code)] != 0: // an unmapped code is a bug: internal, below
		st := statusOf[string(de.Code)]
		return Problem{Type: typeURI(string(de.Code)), Title: title(st), Status: st, Detail: de.Message,
			Code: string(de.Code), Errors: de.Fields, Details: de.Details}
	case errors.As(err, &ee):
		st := statusOf[ee.code]
		return Problem{Type: typeURI(ee.code), Title: title(st), Status: st, Detail: ee.detail, Code: ee.code}
	case errors.Is(err, context.Canceled):
		return Problem{Type: typeURI(codeClientClosed), Title: "Client Closed Request", Status: 499,
			Detail: "The request was cancelled before it finished.", Code: codeClientClosed}
	case isUnavailable(err):
		return Problem{Type: typeURI(codeUnavailable), Title: title(503), Status: 503,
			Detail: "The service cannot reach its database right now. Try again shortly.", Code: codeUnavailable}
	default:
		return Problem{Type: typeURI(codeInternal), Title: title(500), Status: 500,
			Detail: "Something went wrong on our side. It was logged; try again later.", Code: codeInternal}
	}
}

func typeURI(code string) string { return "https://partners.dev/problems/" + code }

// isUnavailable recognizes a database that is down or unreachable, which
// is the service's condition, not the client's fault.
func isUnavailable(err error) bool {
	var ne net.Error
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.As(err, &pe):
		// admin shutdown, crash shutdown, cannot connect now, too many connections
		return pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || pe.Code == "53300" || pe.Code[:2] == "08"
	case errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return pgconn.SafeToRetry(err)
}
