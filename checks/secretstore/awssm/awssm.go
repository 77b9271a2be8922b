// Package awssm is the aws_secretsmanager secret store: a credential's
// AWSCURRENT, AWSPREVIOUS and AWSPENDING versions and DescribeSecret's
// rotation dates, read with AWS credentials from the SDK's standard chain.
// It is the only package that imports the AWS SDK.
package awssm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/redact"
)

// Kind is the key a secret is written under: `secret: {aws_secretsmanager: {...}}`.
const Kind = "aws_secretsmanager"

// AWS Secrets Manager's staging labels.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
	StagePending  = "AWSPENDING"
)

func init() {
	config.RegisterSecretStore(Kind, func() config.SecretStoreSpec { return &Spec{} })
}

// Spec is a secret's options under aws_secretsmanager.
type Spec struct {
	ID       string          `yaml:"id"`       // name or ARN
	JSONKey  string          `yaml:"json_key"` // for a JSON secret: the key whose value is the credential
	Region   string          `yaml:"region"`   // default: the SDK's (AWS_REGION, profile)
	Endpoint string          `yaml:"endpoint"` // a VPC endpoint, or a test server
	Refresh  config.Duration `yaml:"refresh_every"`
}

// Validate checks the options; AWS credentials are never among them.
func (s *Spec) Validate() []config.FieldProblem {
	var out []config.FieldProblem
	if s.ID == "" {
		out = append(out, config.FieldProblem{Field: "id", Msg: "required: the secret's name or ARN"})
	}
	if s.Refresh < 0 || (s.Refresh > 0 && s.Refresh.D() < time.Second) {
		out = append(out, config.FieldProblem{Field: "refresh_every", Msg: "must be at least 1s"})
	}
	if s.Endpoint != "" {
		if msg := endpointProblem(s.Endpoint); msg != "" {
			out = append(out, config.FieldProblem{Field: "endpoint", Msg: msg})
		}
	}
	return out
}

// endpointProblem refuses an endpoint that is not a URL, or plain http to
// another machine: secrets would cross the network in clear text.
func endpointProblem(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "must be an https URL such as https://vpce-123.secretsmanager.eu-west-1.vpce.amazonaws.com"
	}
	if u.User != nil {
		return "must not carry credentials; credmon takes AWS credentials from the SDK's standard chain"
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return "plain http is allowed to a loopback address only; secrets would cross the network in clear text"
	}
	return ""
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Describe names the secret: "aws_secretsmanager prod/payments (api_key)".
func (s *Spec) Describe() string {
	d := Kind + " " + s.ID
	if s.JSONKey != "" {
		d += " (" + s.JSONKey + ")"
	}
	return d
}

// RefreshEvery is refresh_every; 0 means config's default.
func (s *Spec) RefreshEvery() time.Duration { return s.Refresh.D() }

// Open builds a Secrets Manager client from the SDK's standard credential
// chain (environment, shared profile, web identity, container or instance
// role). The AWS credentials are resolved once here only to be redacted
// from anything the service says.
func (s *Spec) Open(ctx context.Context) (config.SecretStore, error) {
	// The SDK's own HTTP client follows no redirect (a redirect would carry
	// the signed request elsewhere) and honours AWS_CA_BUNDLE.
	var opts []func(*awsconfig.LoadOptions) error
	if s.Region != "" {
		opts = append(opts, awsconfig.WithRegion(s.Region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, err
	}
	st := &store{spec: *s, region: cfg.Region, texts: map[string]string{}}
	if creds, err := cfg.Credentials.Retrieve(ctx); err == nil {
		st.awsCreds = redact.NewSet(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
	}
	st.client = secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		if s.Endpoint != "" {
			o.BaseEndpoint = aws.String(s.Endpoint)
		}
	})
	return st, nil
}

// api is the part of the Secrets Manager client credmon uses.
type api interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// store reads one secret. Values already read are kept by version id, so
// a refresh that finds the same versions costs one DescribeSecret.
type store struct {
	spec     Spec
	region   string
	client   api
	awsCreds *redact.Set

	mu    sync.Mutex
	texts map[string]string // version id -> value
}

// Read describes the secret, then reads each staged version it does not
// hold yet.
func (s *store) Read(ctx context.Context) (config.StoreRead, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(s.spec.ID)})
	if err != nil {
		return config.StoreRead{}, s.fail("DescribeSecret", err)
	}
	stageOf := map[string]string{}
	for id, stages := range d.VersionIdsToStages {
		for _, st := range stages {
			stageOf[st] = id
		}
	}
	var r config.StoreRead
	// Secrets Manager returns no RotationEnabled for a secret never set up
	// for rotation: that is rotation off.
	r.Info.RotationEnabled = aws.Bool(aws.ToBool(d.RotationEnabled))
	if d.LastRotatedDate != nil {
		r.Info.LastRotated = *d.LastRotatedDate
	}
	if d.NextRotationDate != nil {
		r.Info.NextRotation = *d.NextRotationDate
	}
	if stageOf[StageCurrent] == "" {
		return config.StoreRead{}, &config.StoreError{
			Msg:  fmt.Sprintf("%s has no %s version", s.spec.Describe(), StageCurrent),
			Hint: "Put a value into the secret (aws secretsmanager put-secret-value) or move the AWSCURRENT label back to a version."}
	}
	keep := map[string]bool{}
	for _, st := range []struct {
		label string
		into  *config.StoreVersion
	}{{StageCurrent, &r.Current}, {StagePrevious, &r.Previous}, {StagePending, &r.Pending}} {
		id := stageOf[st.label]
		if id == "" || (st.label != StageCurrent && id == stageOf[StageCurrent]) {
			continue
		}
		text, err := s.value(ctx, id, st.label)
		if err != nil {
			if st.label == StageCurrent {
				return config.StoreRead{}, err
			}
			// A previous or pending version that cannot be read is not
			// the current key: say nothing rather than fail the credential.
			continue
		}
		*st.into = config.StoreVersion{ID: id, Text: text}
		keep[id] = true
	}
	for id := range s.texts {
		if !keep[id] {
			delete(s.texts, id)
		}
	}
	return r, nil
}

// value returns a version's credential: the secret string, or its json_key.
func (s *store) value(ctx context.Context, id, label string) (string, error) {
	if t, ok := s.texts[id]; ok {
		return t, nil
	}
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.spec.ID), VersionId: aws.String(id)})
	if err != nil {
		return "", s.fail("GetSecretValue", err)
	}
	if out.SecretString == nil {
		return "", &config.StoreError{Msg: fmt.Sprintf("%s (%s) is a binary secret; credmon reads string secrets", s.spec.Describe(), label),
			Hint: "Store the credential as a secret string (plain, or a JSON object with json_key)."}
	}
	text := *out.SecretString
	if s.spec.JSONKey != "" {
		if text, err = jsonField(text, s.spec.JSONKey); err != nil {
			return "", &config.StoreError{Msg: fmt.Sprintf("%s (%s): %v", s.spec.Describe(), label, err),
				Hint: "Point json_key at a string field of the secret's JSON, or remove json_key for a plain-string secret."}
		}
	}
	s.texts[id] = text
	return text, nil
}

// jsonField extracts one string field. Its errors name keys, never values.
func jsonField(text, key string) (string, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &obj); err != nil {
		return "", errors.New("the secret string is not a JSON object")
	}
	raw, ok := obj[key]
	if !ok {
		// Key names are not listed: nothing of the secret's content goes
		// into a message.
		return "", fmt.Errorf("the secret's JSON has no key %q (it has %d keys)", key, len(obj))
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("the secret's JSON key %q is not a string", key)
	}
	return v, nil
}

// Throttling error codes of AWS APIs.
var throttleCodes = []string{"ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "Throttling", "RequestThrottled"}

// fail turns an SDK error into a cause with a hint. Service text is
// redacted against the AWS credentials and cut short.
func (s *store) fail(action string, err error) error {
	what := s.spec.Describe()
	msg := func(text string) string {
		text = redact.String(text, s.awsCreds)
		if r := []rune(text); len(r) > 300 {
			text = string(r[:300]) + "…"
		}
		return text
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		se := &config.StoreError{Msg: msg(fmt.Sprintf("%s: %s %s: %s", what, action, code, ae.ErrorMessage())), Err: errors.New(code)}
		switch {
		case code == "AccessDeniedException":
			se.Hint = fmt.Sprintf("Allow secretsmanager:%s on %s to the AWS identity credmon runs as", action, s.resource())
			if action == "GetSecretValue" {
				se.Hint += " (and kms:Decrypt on the secret's KMS key if it is a customer managed key)"
			}
			se.Hint += "."
		case code == "ResourceNotFoundException":
			se.Msg = msg(fmt.Sprintf("%s: no secret %q in region %s (%s: %s)", what, s.spec.ID, s.regionName(), code, ae.ErrorMessage()))
			se.Hint = fmt.Sprintf("Check the secret's id %q and region %s (aws secretsmanager describe-secret --secret-id %s --region %s).", s.spec.ID, s.regionName(), s.spec.ID, s.regionName())
		case slices.Contains(throttleCodes, code):
			se.Throttled = true
			se.Hint = "Secrets Manager is throttling credmon; it keeps the values it has and backs off. Raise refresh_every if this repeats."
		case code == "DecryptionFailure":
			se.Hint = "Allow kms:Decrypt on the secret's KMS key to the AWS identity credmon runs as."
		case code == "UnrecognizedClientException", code == "InvalidSignatureException", code == "ExpiredTokenException":
			se.Hint = "The AWS credentials credmon found are not valid; it takes them from the SDK's standard chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity, or the task or instance role)."
		default:
			se.Hint = fmt.Sprintf("Secrets Manager refused %s on %s.", action, s.resource())
		}
		return se
	}
	se := &config.StoreError{Msg: msg(fmt.Sprintf("%s: %s: %v", what, action, err)), Err: err}
	text := err.Error()
	switch {
	case strings.Contains(text, "retrieve credentials") || strings.Contains(text, "no EC2 IMDS role") || strings.Contains(text, "failed to refresh cached credentials"):
		se.Msg = msg(fmt.Sprintf("%s: %s: no AWS credentials (%v)", what, action, err))
		se.Hint = "Give credmon AWS credentials through the SDK's standard chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity (IRSA), or the task or instance role. They never go into credmon's config."
	case strings.Contains(text, "region"):
		se.Hint = "Set region under aws_secretsmanager, or AWS_REGION in credmon's environment."
	default:
		se.Hint = "Check that credmon can reach Secrets Manager (endpoint, VPC endpoint, proxy)."
	}
	return se
}

// resource names the secret in an IAM policy: its ARN when given, else a
// pattern for its name (Secrets Manager appends six random characters).
func (s *store) resource() string {
	if strings.HasPrefix(s.spec.ID, "arn:") {
		return s.spec.ID
	}
	return fmt.Sprintf("arn:aws:secretsmanager:%s:ACCOUNT:secret:%s-??????", s.regionName(), s.spec.ID)
}

func (s *store) regionName() string {
	if s.region == "" {
		return "(no region)"
	}
	return s.region
}
