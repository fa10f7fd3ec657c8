package cli

import "github.com/keywarden/keywarden/internal/awsfile"

// loadSharedFiles reads the AWS shared credentials and config files.
func loadSharedFiles() (creds, config *awsfile.File, err error) {
	credsPath, err := awsfile.CredentialsPath()
	if err != nil {
		return nil, nil, err
	}
	configPath, err := awsfile.ConfigPath()
	if err != nil {
		return nil, nil, err
	}
	if creds, _, err = awsfile.Load(credsPath, awsfile.Credentials); err != nil {
		return nil, nil, err
	}
	if config, _, err = awsfile.Load(configPath, awsfile.Config); err != nil {
		return nil, nil, err
	}
	return creds, config, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
