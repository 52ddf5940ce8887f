"""The storybook (SPEC §12): a story as one page and one film, and the signed web server."""
