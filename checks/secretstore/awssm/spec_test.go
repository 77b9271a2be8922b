package awssm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/credmon/credmon/checks/config"
)

// Mistakes under aws_secretsmanager are config errors with file, line,
// column and field, like every other.
func TestSpecErrorsArePositioned(t *testing.T) {
	for name, tc := range map[string]struct{ spec, want string }{
		"unknown field":   {`{id: prod/payments, regoin: eu-west-1}`, `credmon.yaml:7:58: environments.prod.credentials.payments.secret.aws_secretsmanager.regoin: unknown field "regoin" (did you mean "region"?)`},
		"missing id":      {`{region: eu-west-1}`, `credmon.yaml:7:38: environments.prod.credentials.payments.secret.aws_secretsmanager.id: required: the secret's name or ARN`},
		"plain http":      {`{id: x, endpoint: "http://sm.example.com"}`, `credmon.yaml:7:56: environments.prod.credentials.payments.secret.aws_secretsmanager.endpoint: plain http is allowed to a loopback address only`},
		"short refresh":   {`{id: x, refresh_every: 10ms}`, `aws_secretsmanager.refresh_every: must be at least 1s`},
		"not a mapping":   {`prod/payments`, `secret.aws_secretsmanager: expected a mapping of aws_secretsmanager options, got a string`},
		"misspelled kind": {``, `unknown key "aws_secretmanager" (did you mean "aws_secretsmanager"?)`},
	} {
		t.Run(name, func(t *testing.T) {
			secret := `{aws_secretsmanager: ` + tc.spec + `}`
			if tc.spec == "" {
				secret = `{aws_secretmanager: {id: x}}`
			}
			_, err := config.Parse("credmon.yaml", []byte(`
environments:
  prod:
    credentials:
      payments:
        type: bearer
        secret: `+secret+`
    checks:
      - {name: c, credential: payments, url: "https://api.example"}
`))
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Count(err.Error(), "\n") > 0 {
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Pos.Line != 7 {
				t.Fatalf("error %v is not positioned on line 7", err)
			}
		})
	}
}
