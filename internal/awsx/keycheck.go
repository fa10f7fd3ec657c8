package awsx

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/keywarden/keywarden/internal/credential"
)

// invalidCodes are STS error codes that mean the credential does not work.
var invalidCodes = map[string]bool{
	"InvalidClientTokenId":  true, // unknown or deactivated key id
	"SignatureDoesNotMatch": true, // known key id, wrong secret
	"ExpiredToken":          true, // session credentials past their expiry
	"InvalidToken":          true, // malformed session token
}

// KeyChecker checks keys with STS GetCallerIdentity, which needs no IAM
// permission and changes nothing in the account.
type KeyChecker struct {
	base aws.Config
}

// NewKeyChecker uses cfg's region, endpoint, HTTP client and retry policy,
// but never its credentials: each call signs with only the key checked.
func NewKeyChecker(cfg aws.Config) *KeyChecker {
	cfg = ForIAM(cfg)
	cfg.Credentials = nil
	return &KeyChecker{base: cfg}
}

// CheckKey asks STS who key is. The secret leaves the process only as the
// request signature to STS.
func (c *KeyChecker) CheckKey(ctx context.Context, key credential.Key) credential.Result {
	var capture errorCodeCapture
	client := sts.NewFromConfig(c.base, func(o *sts.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(key.ID, key.Secret.Reveal(), key.SessionToken.Reveal())
		// Clip: appending must not write into the shared config's backing array.
		o.APIOptions = append(slices.Clip(o.APIOptions), capture.register)
	})
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err == nil {
		return credential.Result{Status: credential.Active, ARN: aws.ToString(out.Arn), Account: aws.ToString(out.Account)}
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code, msg := apiErr.ErrorCode(), apiErr.ErrorMessage()
		if code == "UnknownError" && capture.code != "" {
			code, msg = capture.code, capture.message
		}
		status := credential.Unknown
		if invalidCodes[code] {
			status = credential.Invalid
		}
		return credential.Result{Status: status, Err: fmt.Errorf("check key %s: sts: %s: %s", key.ID, code, msg)}
	}
	if ctx.Err() != nil {
		return credential.Result{Status: credential.Unknown, Err: fmt.Errorf("check key %s: %w", key.ID, ctx.Err())}
	}
	return credential.Result{Status: credential.Unknown, Err: fmt.Errorf("check key %s: %w", key.ID, Plain(err))}
}
