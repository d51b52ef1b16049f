package apitest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The contract check refuses what the document does not describe, on
// answers made up here (no server needed).
func TestContractCheck(t *testing.T) {
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	const org = "/v1/organizations/0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b"
	const problem = "application/problem+json"
	cases := []struct {
		name, method, path, body string
		token                    bool
		status                   int
		contentType, answer      string
		want                     string // part of the violation; "" for none
	}{
		{name: "OK", method: "GET", path: "/healthz", status: 200, contentType: "application/json", answer: `{"status":"ok"}`},
		{name: "OKProblem", method: "GET", path: org + "/authorize?action=partners.read", token: true, status: 404,
			contentType: problem, answer: `{"type":"https://partners.dev/problems/not_found","title":"Not Found","status":404,"detail":"x","code":"not_found"}`},
		{name: "OKNullRole", method: "GET", path: org + "/authorize?action=partners.read", token: true, status: 200,
			contentType: "application/json", answer: `{"allowed":false,"role":null,"reason":"not a member"}`},
		{name: "UndocumentedStatus", method: "GET", path: "/healthz", status: 201, contentType: "application/json",
			answer: `{"status":"ok"}`, want: "status is not supported"},
		{name: "EnumValue", method: "GET", path: org + "/authorize?action=partners.read", token: true, status: 200,
			contentType: "application/json", answer: `{"allowed":true,"role":"boss","reason":""}`, want: "role"},
		{name: "MissingField", method: "GET", path: org, token: true, status: 200,
			contentType: "application/json", answer: `{"id":"0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b"}`, want: "required"},
		{name: "MediaType", method: "GET", path: "/healthz", status: 200, contentType: "text/plain", answer: "ok", want: "Content-Type"},
		{name: "UnlistedCode", method: "GET", path: org + "/authorize?action=partners.read", token: true, status: 404,
			contentType: problem, answer: `{"type":"https://partners.dev/problems/x","title":"Not Found","status":404,"detail":"x","code":"invalid_token"}`,
			want: `problem code "invalid_token"`},
		{name: "InvalidRequestAccepted", method: "GET", path: org + "/authorize", token: true, status: 200,
			contentType: "application/json", answer: `{"allowed":false,"role":null,"reason":""}`, want: "accepted"},
		{name: "UndocumentedRoute", method: "GET", path: "/v1/nowhere", status: 200, contentType: "application/json", answer: `{}`,
			want: "not in the document"},
		{name: "OKUndocumentedRouteRefused", method: "GET", path: "/metrics", status: 404, contentType: problem,
			answer: `{"type":"https://partners.dev/problems/route_not_found","title":"Not Found","status":404,"detail":"x","code":"route_not_found"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, "http://127.0.0.1:1"+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.token {
				req.Header.Set("Authorization", "Bearer x")
			}
			resp := &http.Response{StatusCode: tc.status, Header: http.Header{"Content-Type": {tc.contentType}},
				Body: io.NopCloser(strings.NewReader(tc.answer))}
			err = c.check(req, []byte(tc.body), resp, []byte(tc.answer))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("violation: %v; want none", err)
			case tc.want != "" && err == nil:
				t.Fatalf("no violation; want one about %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("violation: %v; want one about %q", err, tc.want)
			}
		})
	}
}
