package awsx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
	"github.com/keywarden/keywarden/internal/english"
)

// NoCredentialsError is the SDK's credential chain finding nothing: no keys
// in the environment, none in the profile, no SSO or process, and no
// instance role. The SDK reports it as its last link's failure (a chain of
// EC2 metadata errors); this says where it looked.
type NoCredentialsError struct {
	Looked []string // where, in the chain's order
	Err    error    // the SDK's own error
}

func (e *NoCredentialsError) Error() string {
	return "no AWS credentials found: looked in " + joinList(e.Looked)
}

func (e *NoCredentialsError) Unwrap() error { return e.Err }

// ProfileNotFoundError is a profile the shared files do not have.
type ProfileNotFoundError struct {
	Profile string
	Setting string // "AWS_PROFILE" when the profile came from there, else "" (--profile)
	Files   []string
}

func (e *ProfileNotFoundError) Error() string {
	name := fmt.Sprintf("profile %q", e.Profile)
	if e.Setting != "" {
		name += " (" + e.Setting + ")"
	}
	files := make([]string, len(e.Files))
	for i, f := range e.Files {
		files[i] = english.HomePath(f)
	}
	if len(files) == 0 {
		return name + " is not in the shared config files"
	}
	return name + " is not in " + joinWith(files, "or")
}

// profileNotFound turns the SDK's missing-profile error into one that
// names where the profile was looked for.
func profileNotFound(err error, opts Options) error {
	var missing config.SharedConfigProfileNotExistError
	if !errors.As(err, &missing) {
		return nil
	}
	e := &ProfileNotFoundError{Profile: missing.Profile, Files: sharedFiles()}
	if opts.Profile == "" {
		e.Setting = "AWS_PROFILE"
	}
	return e
}

// explainedCredentials is a credential chain that ended at the instance
// metadata service: its failure is "no credentials", said as where the
// chain looked.
type explainedCredentials struct {
	*aws.CredentialsCache
	looked []string
}

func (c *explainedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := c.CredentialsCache.Retrieve(ctx)
	if err != nil && ctx.Err() == nil {
		err = &NoCredentialsError{Looked: c.looked, Err: err}
	}
	return creds, err
}

// explainCredentials wraps cfg's credentials when the SDK found none but
// the instance metadata service to ask, so that finding none there says
// where else it looked.
func explainCredentials(cfg *aws.Config, opts Options) {
	cache, ok := cfg.Credentials.(*aws.CredentialsCache)
	if !ok || !slices.Equal(cache.ProviderSources(), []aws.CredentialSource{aws.CredentialSourceIMDS}) {
		return
	}
	var looked []string
	profile, setting := opts.Profile, ""
	if profile == "" {
		looked = append(looked, "the environment (AWS_ACCESS_KEY_ID)")
		profile, setting = os.Getenv("AWS_PROFILE"), " (AWS_PROFILE)"
		if profile == "" {
			profile, setting = "default", ""
		}
	}
	var files []string
	for _, f := range sharedFiles() {
		files = append(files, english.HomePath(f))
	}
	looked = append(looked, fmt.Sprintf("profile %q%s (keys, SSO, credential_process) in %s",
		profile, setting, joinWith(files, "and")))
	imds := "the EC2 instance metadata service"
	if strings.EqualFold(os.Getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		imds += " (turned off by AWS_EC2_METADATA_DISABLED)"
	}
	cfg.Credentials = &explainedCredentials{CredentialsCache: cache, looked: append(looked, imds)}
}

// sharedFiles are the credentials and config files the SDK reads.
func sharedFiles() []string {
	creds := os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	if creds == "" {
		creds = config.DefaultSharedCredentialsFilename()
	}
	conf := os.Getenv("AWS_CONFIG_FILE")
	if conf == "" {
		conf = config.DefaultSharedConfigFilename()
	}
	return []string{creds, conf}
}

// joinList is "a, b, and c" ("a and b" for two).
func joinList(items []string) string {
	if len(items) < 3 {
		return joinWith(items, "and")
	}
	return strings.Join(items[:len(items)-1], ", ") + ", and " + items[len(items)-1]
}

// joinWith is "a" or "a WORD b".
func joinWith(items []string, word string) string {
	if len(items) == 2 {
		return items[0] + " " + word + " " + items[1]
	}
	return strings.Join(items, ", ")
}

// sdkLogger is the SDK's logger on stderr, without its IMDSv1 fallback
// warning: when the metadata service is the last place to look, its
// failure is said in keywarden's own line (NoCredentialsError).
type sdkLogger struct{ logging.Logger }

func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	if strings.HasPrefix(format, "falling back to IMDSv1") {
		return
	}
	l.Logger.Logf(c, format, v...)
}
