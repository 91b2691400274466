"""One app on a paaskit rack: the services, resources and timers of its manifest.

    paaskit plan stacks/app -c paaskit-app:manifest=examples/flask/paaskit.yml
    pulumi up -C stacks/app            # after `pulumi config set manifest ...`

The rack comes from another stack (`paaskit-app:rack`, by default the
reference rack's `dev` stack); offline, `paaskit plan` plans that rack too.
"""

import app_config
import pulumi

from paaskit.app import App

name, args = app_config.load()
app = App(name, args)
# Each web service's URL: its own domain once served, else its *.cloudfront.net name.
pulumi.export("urls", app.urls)
# Per web service, the DNS records to create at the domains' provider (empty when none).
pulumi.export("dns", app.dns)
pulumi.export("services", {svc: service.name for svc, service in app.services.items()})
