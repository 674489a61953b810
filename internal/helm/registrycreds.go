package helm

// RegistryCredentials returns the username and password the Secret a
// source's secretRef names gives for a registry host (username/password,
// or .dockerconfigjson), as for OCI charts; empty when it names none.
// Values never reach an error message.
func RegistryCredentials(lookup Lookup, kind, namespace, sourceName, secretName, host string) (user, pass string, err error) {
	c, err := secretCredentials(lookup, kind, namespace, sourceName, secretName)
	if err != nil {
		return "", "", err
	}
	user, pass = c.forHost(host)
	return user, pass, nil
}
