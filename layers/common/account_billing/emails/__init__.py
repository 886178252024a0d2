"""Email addresses of an account: rules (`addresses`), the address and its marker as stored
(`records`, `store`), verification tokens (`tokens`), the emails sent (`messages`, `mailer`), the
routes' logic (`service`, `models`), and their step of account deletion (`erasure`)."""
