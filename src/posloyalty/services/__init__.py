"""One function per thing a person does at the till, each in one transaction."""
