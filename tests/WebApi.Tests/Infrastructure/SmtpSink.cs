using System.Buffers;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using MimeKit;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace WebApi.Tests.Infrastructure;

/// <summary>A mail as the SMTP server received it: parsed, with how the sender reached it.</summary>
public sealed partial record ReceivedMail(MimeMessage Message, bool OverTls, string? SignedInAs)
{
    public string To => ((MailboxAddress)Message.To[0]).Address;

    public string Text => Message.TextBody ?? "";

    /// <summary>The six-digit code on a line of its own, as a verification mail sets it out.</summary>
    public string VerificationCode => CodeLine().Match(Text) is { Success: true } match
        ? match.Groups[1].Value
        : throw new Xunit.Sdk.XunitException($"No code in the mail:\n{Text}");

    [System.Text.RegularExpressions.GeneratedRegex(@"^\s+(\d{6})\s*$", System.Text.RegularExpressions.RegexOptions.Multiline)]
    private static partial System.Text.RegularExpressions.Regex CodeLine();
}

/// <summary>
/// A real SMTP server (the SmtpServer library) on a free loopback port, keeping what it receives: STARTTLS offered
/// when given a certificate, sign-in required when given a password, and told to refuse mail for a while.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private readonly Channel<ReceivedMail> _received = Channel.CreateUnbounded<ReceivedMail>();
    private readonly CancellationTokenSource _stop = new();
    private SmtpServer.SmtpServer? _server;
    private Task _running = Task.CompletedTask;
    private int _refusals;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _unknownMailboxes = new(StringComparer.OrdinalIgnoreCase);

    private SmtpSink(int port) => Port = port;

    public int Port { get; }

    public int Accepted { get; private set; }

    public int Refused { get; private set; }

    /// <summary>A sink on a port that is free now; it listens once <see cref="ListenAsync"/> is called (a server that is down until then).</summary>
    public static SmtpSink OnFreePort() => new(FreePort.Next());

    public static async Task<SmtpSink> StartAsync(X509Certificate2? certificate = null, (string User, string Password)? login = null)
    {
        var sink = OnFreePort();
        await sink.ListenAsync(certificate, login);
        return sink;
    }

    public async Task ListenAsync(X509Certificate2? certificate = null, (string User, string Password)? login = null)
    {
        var options = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(endpoint =>
            {
                endpoint.Endpoint(new IPEndPoint(IPAddress.Loopback, Port));
                if (certificate is not null)
                {
                    endpoint.Certificate(certificate);
                }

                if (login is not null)
                {
                    endpoint.AuthenticationRequired().AllowUnsecureAuthentication(certificate is null);
                }
            })
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Store(this));
        services.Add(new DelegatingMailboxFilter(
            (ISessionContext _, IMailbox _) => true,
            (ISessionContext _, IMailbox to, IMailbox _) => !_unknownMailboxes.ContainsKey(to.AsAddress())));
        if (login is { } expected)
        {
            services.Add(new DelegatingUserAuthenticator((user, password) => user == expected.User && password == expected.Password));
        }

        _server = new SmtpServer.SmtpServer(options, services);
        _running = _server.StartAsync(_stop.Token);

        // Listening once a connection is answered (within 10 s: a busy machine starts it late).
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (System.Net.Sockets.SocketException) when (attempt < 500)
            {
                await Task.Delay(20);
            }
        }
    }

    /// <summary>Mail to <paramref name="address"/> is refused for good (550: no such mailbox), as a provider does.</summary>
    public void NoSuchMailbox(string address) => _unknownMailboxes[address] = true;

    /// <summary>The next <paramref name="count"/> mails are answered 451 (try again later), as a busy server does.</summary>
    public void RefuseNext(int count) => Interlocked.Exchange(ref _refusals, count);

    /// <summary>The next mail received, within <paramref name="timeout"/> (10 s when not given).</summary>
    public async Task<ReceivedMail> NextAsync(TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            return await _received.Reader.ReadAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No mail reached the SMTP server on port {Port} within {(timeout ?? TimeSpan.FromSeconds(10)).TotalSeconds} s");
        }
    }

    /// <summary>Whether a mail arrives within <paramref name="wait"/>, taking it if so.</summary>
    public async Task<ReceivedMail?> AnyWithinAsync(TimeSpan wait)
    {
        try
        {
            return await NextAsync(wait);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_server is not null)
        {
            _server.Shutdown();
            await _running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _stop.Dispose();
    }

    private sealed class Store(SmtpSink sink) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            if (Interlocked.Decrement(ref sink._refusals) >= 0)
            {
                sink.Refused++;
                return new SmtpResponse(SmtpReplyCode.Aborted, "busy, try again later");
            }

            Interlocked.Exchange(ref sink._refusals, 0);
            await using var stream = new MemoryStream(buffer.ToArray());
            var message = await MimeMessage.LoadAsync(stream, cancellationToken);
            sink.Accepted++;
            sink._received.Writer.TryWrite(new ReceivedMail(message, context.Pipe.IsSecure, context.Authentication.IsAuthenticated ? context.Authentication.User : null));
            return SmtpResponse.Ok;
        }
    }
}
