package awsfile

import "context"

// Shared names the two shared files the SDK reads, by path.
type Shared struct {
	Credentials, Config string
}

// SharedPaths is the pair the SDK reads ($AWS_SHARED_CREDENTIALS_FILE and
// $AWS_CONFIG_FILE, else ~/.aws/credentials and ~/.aws/config).
func SharedPaths() (Shared, error) {
	creds, err := CredentialsPath()
	if err != nil {
		return Shared{}, err
	}
	config, err := ConfigPath()
	if err != nil {
		return Shared{}, err
	}
	return Shared{Credentials: creds, Config: config}, nil
}

// LoadShared reads the two files the SDK reads (SharedPaths).
func LoadShared() (creds, config *File, err error) {
	s, err := SharedPaths()
	if err != nil {
		return nil, nil, err
	}
	return s.Load()
}

// Path is the path of the file of kind.
func (s Shared) Path(kind Kind) string {
	if kind == Config {
		return s.Config
	}
	return s.Credentials
}

// Load reads both files; a missing one is empty.
func (s Shared) Load() (creds, config *File, err error) {
	if creds, _, err = Load(s.Credentials, Credentials); err != nil {
		return nil, nil, err
	}
	if config, _, err = Load(s.Config, Config); err != nil {
		return nil, nil, err
	}
	return creds, config, nil
}

// Edit applies edit to the file of kind under its lock, and writes the
// result atomically, keeping the file's mode (0600 for a new file). When
// edit fails the file is left as it was.
func (s Shared) Edit(ctx context.Context, kind Kind, edit func(*File) error) error {
	path := s.Path(kind)
	unlock, err := Lock(ctx, path)
	if err != nil {
		return err
	}
	defer unlock()
	f, mode, err := Load(path, kind)
	if err != nil {
		return err
	}
	if err := edit(f); err != nil {
		return err
	}
	return Save(path, f, mode)
}
