// Package awssmtest runs a real Secrets Manager API for tests: Python
// moto's moto_server on a loopback port, and a client to set secrets up
// and move their staging labels as a rotation function would.
package awssmtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// Fake AWS credentials the tests run with: they look fake, and the leak
// tests look for them in every output.
const (
	AccessKeyID     = "AKIAFAKECREDMON0TEST"
	SecretAccessKey = "fakeSecretAccessKeyCredmonTest0000000000"
	Region          = "eu-west-1"
)

// Server is a running moto_server.
type Server struct {
	URL    string // http://127.0.0.1:PORT
	Client *secretsmanager.Client
}

// command finds moto: the moto_server script, or the module under python3.
func command() ([]string, bool) {
	if p, err := exec.LookPath("moto_server"); err == nil {
		return []string{p}, true
	}
	if p, err := exec.LookPath("python3"); err == nil && exec.Command(p, "-c", "import moto.server, flask").Run() == nil {
		return []string{p, "-m", "moto.server"}, true
	}
	return nil, false
}

// Start runs moto_server on a free loopback port until the test ends and
// points the SDK's standard chain at fake credentials (t.Setenv). Without
// moto the test skips — and fails under CI=true.
func Start(t testing.TB) *Server {
	t.Helper()
	argv, ok := command()
	if !ok {
		if os.Getenv("CI") == "true" {
			t.Fatal("moto_server not found (CI=true requires it): pip install 'moto[server]'")
		}
		t.Skip("moto_server not found, skipping the Secrets Manager test (pip install 'moto[server]'; with CI=true this fails)")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", Region)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)

	port := freePort(t)
	var out bytes.Buffer
	cmd := exec.Command(argv[0], append(argv[1:], "-H", "127.0.0.1", "-p", strconv.Itoa(port))...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	// Poll until it answers; the guard keeps a moto that never comes up
	// from hanging the test.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("moto_server exited: %s", out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not answer on %s within 30s: %s", s.URL, out.String())
		}
	}
	s.Client = secretsmanager.New(secretsmanager.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
	})
	return s
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Create makes a secret whose first version is value (AWSCURRENT) and
// returns that version's id.
func (s *Server) Create(t testing.TB, name, value string) string {
	t.Helper()
	out, err := s.Client.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		t.Fatalf("CreateSecret %s: %v", name, err)
	}
	return aws.ToString(out.VersionId)
}

// PutPending adds a version staged AWSPENDING only, as a rotation
// function's createSecret step does, and returns its id.
func (s *Server) PutPending(t testing.TB, name, value string) string {
	t.Helper()
	out, err := s.Client.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(name), SecretString: aws.String(value), VersionStages: []string{"AWSPENDING"}})
	if err != nil {
		t.Fatalf("PutSecretValue %s: %v", name, err)
	}
	return aws.ToString(out.VersionId)
}

// Schedule turns rotation on with a schedule of days, without a rotation
// function: moto then rotates at once (a new AWSCURRENT with the same
// value) and DescribeSecret reports LastRotatedDate and NextRotationDate.
func (s *Server) Schedule(t testing.TB, name string, days int64) {
	t.Helper()
	if _, err := s.Client.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{SecretId: aws.String(name),
		RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(days)}, RotateImmediately: aws.Bool(false)}); err != nil {
		t.Fatalf("RotateSecret %s: %v", name, err)
	}
}

// Promote moves AWSCURRENT to version id (the old current becomes
// AWSPREVIOUS) and drops AWSPENDING from it, as finishSecret does.
func (s *Server) Promote(t testing.TB, name, id string) {
	t.Helper()
	ctx := context.Background()
	d, err := s.Client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeSecret %s: %v", name, err)
	}
	var current string
	pending := false
	for v, stages := range d.VersionIdsToStages {
		for _, st := range stages {
			if st == "AWSCURRENT" {
				current = v
			}
			if st == "AWSPENDING" && v == id {
				pending = true
			}
		}
	}
	if _, err := s.Client.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(name), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(id), RemoveFromVersionId: aws.String(current)}); err != nil {
		t.Fatalf("move AWSCURRENT: %v", err)
	}
	if !pending {
		return
	}
	if _, err := s.Client.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(name), VersionStage: aws.String("AWSPENDING"), RemoveFromVersionId: aws.String(id)}); err != nil {
		t.Fatalf("remove AWSPENDING: %v", err)
	}
}
