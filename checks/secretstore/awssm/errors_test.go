package awssm_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/secretstore/awssm/awssmtest"
)

// runWith builds the payments check reading secret id from endpoint and
// runs it once.
func runWith(t *testing.T, endpoint, id string) checks.Result {
	t.Helper()
	yaml := strings.Replace(rotationConfig(endpoint, "https://api.example", ""), "id: prod/payments", "id: "+id, 1)
	all := build(t, loadConfig(t, yaml))
	return all[0].Run(context.Background(), time.Now())
}

func TestResourceNotFoundNamesTheID(t *testing.T) {
	sm := awssmtest.Start(t)
	r := runWith(t, sm.URL, "prod/no-such-secret")
	if r.Cause != checks.CauseMissingCredential || !strings.Contains(r.Detail, `no secret "prod/no-such-secret" in region eu-west-1`) ||
		!strings.Contains(r.Hint, "Check the secret's id \"prod/no-such-secret\" and region eu-west-1") {
		t.Fatalf("got %s: %s / fix: %s", r.Cause, r.Detail, r.Hint)
	}
}

// fakeAWS speaks the Secrets Manager JSON protocol just enough to refuse:
// it checks that requests are signed with the standard chain's key.
func fakeAWS(t *testing.T, code, message string) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if !strings.Contains(r.Header.Get("Authorization"), "Credential="+awssmtest.AccessKeyID+"/") {
			t.Errorf("request not signed with the standard chain's key: %q", r.Header.Get("Authorization"))
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"` + code + `","message":"` + message + `"}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// fakeEnv gives the SDK the same fake credentials moto tests use, without
// a moto.
func fakeEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", awssmtest.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", awssmtest.SecretAccessKey)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
}

func TestAccessDeniedNamesActionAndResource(t *testing.T) {
	fakeEnv(t)
	// The service names the caller; the echo of the access key id must
	// not survive into the message.
	srv, _ := fakeAWS(t, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/credmon with key "+awssmtest.AccessKeyID+" is not authorized to perform: secretsmanager:DescribeSecret")
	r := runWith(t, srv.URL, "prod/payments")
	if r.Cause != checks.CauseMissingCredential || !strings.Contains(r.Detail, "AccessDeniedException") {
		t.Fatalf("got %s: %s", r.Cause, r.Detail)
	}
	if want := "Allow secretsmanager:DescribeSecret on arn:aws:secretsmanager:eu-west-1:ACCOUNT:secret:prod/payments-??????"; !strings.Contains(r.Hint, want) {
		t.Fatalf("hint %q; want it to contain %q", r.Hint, want)
	}
	if strings.Contains(r.Detail+r.Hint, awssmtest.AccessKeyID[:12]) {
		t.Fatalf("the AWS access key id is in the result: %s", r.Detail)
	}
}

// A throttled read is an error cause with a backoff hint, and the cache
// does not ask again at once.
func TestThrottlingBacksOff(t *testing.T) {
	fakeEnv(t)
	srv, calls := fakeAWS(t, "ThrottlingException", "Rate exceeded")
	yaml := rotationConfig(srv.URL, "https://api.example", "")
	all := build(t, loadConfig(t, yaml))
	r := all[0].Run(context.Background(), time.Now())
	if r.Cause != checks.CauseMissingCredential || !strings.Contains(r.Hint, "backs off") {
		t.Fatalf("got %s: %s / fix: %s", r.Cause, r.Detail, r.Hint)
	}
	n := calls.Load()
	for range 5 {
		all[0].Run(context.Background(), time.Now())
	}
	if calls.Load() != n {
		t.Fatalf("%d more requests while backing off; want none", calls.Load()-n)
	}
}
