"""The request and its rules, and carrying each request out once in as few HubSpot calls as allowed."""
