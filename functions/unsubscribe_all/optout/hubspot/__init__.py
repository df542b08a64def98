"""HubSpot's Communication Preferences API over urllib3: the client, its errors, pacing and answers."""
