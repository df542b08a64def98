"""AWS on one machine: moto over HTTP, and the template's resources created on it from its own properties."""
