package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"partners/api"
)

// The contract is the OpenAPI document the server serves. Every request the
// tests make through Server.Do and every answer they get are checked
// against it, as a client generated from the document (or a validating
// proxy in front of the server) would see them: an answer with a status,
// media type, field, enum value or problem code the document does not
// list fails the test, and so does a request the document calls invalid
// that the server nevertheless accepted.

type contract struct {
	doc    *openapi3.T
	router routers.Router
}

var (
	contractOnce sync.Once
	contractDoc  *contract
	contractErr  error
)

// problemCodes is the extension on a problem response that lists the codes
// the operation answers with that status.
const problemCodes = "x-problem-codes"

func loadContract() (*contract, error) {
	contractOnce.Do(func() {
		// Formats the document uses that kin-openapi leaves unchecked by
		// default; a client's validator checks them.
		openapi3.DefineStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail))
		openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562))
		openapi3.DefineStringFormatCallback("uri", func(s string) error {
			if u, err := url.Parse(s); err != nil || u.Scheme == "" {
				return errors.New("not an absolute URI")
			}
			return nil
		})
		openapi3filter.RegisterBodyDecoder("application/x-ndjson", jsonLinesDecoder)

		doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI())
		if err != nil {
			contractErr = fmt.Errorf("load the OpenAPI document: %w", err)
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			contractErr = fmt.Errorf("the OpenAPI document is invalid: %w", err)
			return
		}
		// Routes match on paths only: test servers listen wherever they
		// can, not at the document's servers.
		routed := *doc
		routed.Servers = nil
		router, err := legacy.NewRouter(&routed)
		if err != nil {
			contractErr = fmt.Errorf("route the OpenAPI document: %w", err)
			return
		}
		contractDoc = &contract{doc: doc, router: router}
	})
	return contractDoc, contractErr
}

// jsonLinesDecoder reads JSON Lines: every line must be a JSON value. The
// document describes the stream as a string (OpenAPI 3.0 has no schema for
// a sequence), so the decoded value is the text.
func jsonLinesDecoder(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	for i, line := range bytes.Split(bytes.TrimRight(raw, "\n"), []byte("\n")) {
		if len(raw) > 0 && !json.Valid(line) {
			return nil, fmt.Errorf("line %d is not JSON: %.80q", i+1, line)
		}
	}
	return string(raw), nil
}

// check returns what in this exchange the document does not describe.
func (c *contract) check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) error {
	ctx := context.Background()
	in := req.Clone(ctx)
	in.Body = io.NopCloser(bytes.NewReader(reqBody))
	// The server matches escaped paths (a contract id may hold %2F) and
	// unescapes each parameter; so does the check.
	in.URL.Path = in.URL.EscapedPath()
	route, params, err := c.router.FindRoute(in)
	for k, v := range params {
		if u, uerr := url.PathUnescape(v); uerr == nil {
			params[k] = u
		}
	}
	if err != nil {
		// Not a documented operation: the server must refuse it as such.
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			return fmt.Errorf("%s %s is not in the document (%v), yet answered %d", req.Method, req.URL.Path, err, resp.StatusCode)
		}
		return c.checkProblem(resp, respBody)
	}
	reqIn := &openapi3filter.RequestValidationInput{
		Request: in, PathParams: params, Route: route,
		Options: &openapi3filter.Options{
			RejectWhenRequestBodyNotSpecified: true,
			AuthenticationFunc:                bearerPresent,
			MultiError:                        true,
		},
	}
	reqErr := openapi3filter.ValidateRequest(ctx, reqIn)
	if reqErr != nil && resp.StatusCode < 400 {
		return fmt.Errorf("the server accepted (%d) a request the document calls invalid: %v", resp.StatusCode, reqErr)
	}
	reqIn.Options = &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, AuthenticationFunc: bearerPresent}
	err = openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: reqIn,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(respBody)),
		Options:                reqIn.Options,
	})
	if err != nil {
		return fmt.Errorf("answer %d: %v", resp.StatusCode, err)
	}
	return checkCode(route.Operation.Responses.Status(resp.StatusCode), resp, respBody)
}

// checkProblem checks an answer to an undocumented route: a problem.
func (c *contract) checkProblem(resp *http.Response, body []byte) error {
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		return fmt.Errorf("answer %d: Content-Type %q; want application/problem+json", resp.StatusCode, ct)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("answer %d: not JSON: %v", resp.StatusCode, err)
	}
	if err := c.doc.Components.Schemas["Problem"].Value.VisitJSON(v); err != nil {
		return fmt.Errorf("answer %d: not a Problem: %v", resp.StatusCode, err)
	}
	return nil
}

// checkCode checks a problem's code against the codes its response lists.
func checkCode(r *openapi3.ResponseRef, resp *http.Response, body []byte) error {
	if r == nil || r.Value == nil || r.Value.Extensions[problemCodes] == nil {
		return nil
	}
	var p struct{ Code string }
	_ = json.Unmarshal(body, &p)
	var codes []string
	for _, c := range r.Value.Extensions[problemCodes].([]any) {
		codes = append(codes, fmt.Sprint(c))
	}
	if !slices.Contains(codes, p.Code) {
		return fmt.Errorf("answer %d: problem code %q is not one the document lists for it %v", resp.StatusCode, p.Code, codes)
	}
	return nil
}

// bearerPresent stands for the server's authentication: the document only
// says a token is required; whether it is good is the server's to say.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if !strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
		return errors.New("no bearer token")
	}
	return nil
}
